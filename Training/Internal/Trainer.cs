using System.Diagnostics;
using System.Text.Json.Nodes;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// One stage of a fine-tune, composed of parts with one job each and read top to bottom:
/// data (<see cref="StagePlan"/>) → batches (<see cref="BatchPipeline"/>, <see cref="FeatureCache"/>) → step
/// (<see cref="EpochRunner"/>) → metrics (<see cref="Evaluator"/>, <see cref="RunReporter"/>) → checkpoint
/// (<see cref="Checkpointer"/>, <see cref="EarlyStopping"/>) → export (<see cref="Exporter"/>).
/// Two-stage and K-fold runs are compositions of stages (<see cref="FineTuner"/>).
/// </summary>
internal sealed class Trainer : IDisposable
{
    private readonly FineTuneOptions options;
    private readonly RunContext run;
    private readonly ImageDataset data;
    private readonly StagePlan plan;
    private readonly TrainingSession session;
    private readonly StageBatches batches;
    private readonly Checkpointer checkpointer;
    private readonly EarlyStopping stopping;
    private readonly LearningRateSchedule schedule;
    private readonly int stepsPerEpoch;
    private readonly StageClock clock = new();
    private int globalStep;

    private Trainer(OnnxModel model, FineTuneData data, FineTuneOptions options, RunContext run)
    {
        this.options = options;
        this.run = run;
        this.data = data.Train;
        plan = StagePlan.Prepare(model, data, options, run);
        session = TrainingSession.Create(plan.Model, plan.Spec, run.Session);
        try
        {
            Directory.CreateDirectory(run.Artifacts);
            AtomicFile.RemoveKilledWrites(run.OutputDirectory);
            batches = new StageBatches(session, data.Train, plan, options, run);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        checkpointer = new Checkpointer(session, run.Artifacts);
        stopping = new EarlyStopping(options.EarlyStoppingPatience, options.EarlyStoppingMinDelta);
        schedule = (options.Schedule ?? new LearningRateSchedule()) with { BaseRate = options.LearningRate };
        stepsPerEpoch = (plan.Train.Length + options.BatchSize - 1) / options.BatchSize;
    }

    /// <summary>Runs one stage into <see cref="RunContext.OutputDirectory"/> (settings already validated).</summary>
    public static async Task<StageOutcome> RunStageAsync(OnnxModel model, FineTuneData data, FineTuneOptions options, RunContext run, CancellationToken cancellationToken)
    {
        using var trainer = new Trainer(model, data, options, run);
        return await trainer.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<StageOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var (history, firstEpoch) = ResumeHistory();
        globalStep = session.StepCount;
        using var reporter = new RunReporter(run, options.Epochs, session.StepCount);
        var runner = batches.Runner;
        var lastEpoch = run.PriorHistory.Count + options.Epochs;
        clock.SetupDone();
        for (var epoch = firstEpoch; !stopping.ShouldStop && epoch <= lastEpoch; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var totals = await runner.RunAsync(epoch, EpochOrder, lastEpoch, NextRate, cancellationToken, (step, sofar) => reporter.Step(step, sofar, epoch, stepsPerEpoch, epochClock.Elapsed)).ConfigureAwait(false);
            clock.TrainDone(totals);
            var validation = await batches.Evaluator().EvaluateAsync(cancellationToken).ConfigureAwait(false);
            clock.ValidationDone();
            var result = new EpochResult(epoch, totals.Loss, totals.Accuracy, validation?.Loss ?? double.NaN, validation?.Accuracy ?? double.NaN,
                schedule.At(Math.Max(0, globalStep - 1), stepsPerEpoch, stepsPerEpoch * options.Epochs), epochClock.Elapsed.TotalSeconds);
            history.Add(result);
            reporter.Epoch(history);
            checkpointer.Save(epoch, stopping.Improved(result.ValidationLoss));
            reporter.EpochEnd(result, totals, epoch, stepsPerEpoch);
            clock.BookkeepingDone();
        }

        runner.Stop();

        if (options.EarlyStoppingPatience > 0)
        {
            checkpointer.RestoreBest();
        }

        var final = await batches.Evaluator().EvaluateAsync(cancellationToken).ConfigureAwait(false);
        var model = Exporter.Export(session, plan.Binary, data.Classes, plan.Preprocess);
        Exporter.Write(run, model, session, data.Classes);
        clock.FinishDone();
        var metrics = MetricsDocument.Build(batches.Mode, batches.TrainCache, options.Spec, session.Graph, data.Classes, history.Count, batches.Skipped, final);
        metrics["throughput"] = clock.ToJson();
        if (run.EarlierStage is var (stage1, rate))
        {
            var first = run.PriorHistory.Count;
            metrics["stages"] = new JsonArray(
                MetricsDocument.StageSummary(1, stage1, FineTuner.Stage1Folder, 1, first, rate),
                MetricsDocument.StageSummary(2, metrics, ".", first + 1, history.Count, options.LearningRate));
        }

        reporter.Finish(metrics, final);
        return new StageOutcome(history, final, session.Graph.Parameters, metrics);
    }

    /// <summary>Earlier stages' epochs, and on resume this stage's epochs up to its checkpoint (early stopping replayed from them).</summary>
    private (List<EpochResult> History, int FirstEpoch) ResumeHistory()
    {
        var history = new List<EpochResult>(run.PriorHistory);
        var offset = run.PriorHistory.Count;
        if (!run.Resume)
        {
            return (history, offset + 1);
        }

        var done = checkpointer.Resume(offset);
        history.AddRange(RunReporter.ReadHistory(Path.Combine(run.OutputDirectory, "history.csv")).Where(h => h.Epoch > offset).Take(done - offset));
        stopping.Replay(history.Skip(offset));
        return (history, done + 1);
    }

    private int[] EpochOrder(int epoch) =>
        options.Balanced ? Splits.BalancedEpoch(plan.Train.Select(i => data.Items[i].Label).ToArray(), options.Seed, epoch).Select(i => plan.Train[i]).ToArray()
        : options.NoShuffle ? plan.Train
        : Splits.Shuffle(plan.Train, options.Seed, epoch);

    private float NextRate() => schedule.At(globalStep++, stepsPerEpoch, stepsPerEpoch * options.Epochs);

    public void Dispose()
    {
        batches?.Dispose();
        session.Dispose();
    }
}

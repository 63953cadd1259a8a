using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxCnn.Training.Reports;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// What a stage tells the world: progress after every step and at the end of every epoch (one channel), history.csv
/// and curves.png after every epoch, the step log, and at the end confusion.png and metrics.json — each written once
/// per update, atomically.
/// </summary>
internal sealed class RunReporter : IDisposable
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly RunContext run;
    private readonly StepLog? stepLog;
    private readonly int epochsShown;
    private FineTuneProgress? lastStep;

    public RunReporter(RunContext run, int stageEpochs, int stepsDone)
    {
        this.run = run;
        epochsShown = run.ProgressEpochs ?? run.PriorHistory.Count + stageEpochs;
        stepLog = run.StepLog is null ? null
            : StepLog.Open(run.StepLog, run.Resume || run.PriorSteps > 0 ? run.PriorSteps + stepsDone : null);
    }

    public string HistoryPath => Path.Combine(run.OutputDirectory, "history.csv");

    /// <summary>After every optimiser step: the step log line and a progress report.</summary>
    public void Step(StepResult step, EpochTotals totals, int epoch, int batches, TimeSpan elapsed)
    {
        stepLog?.Write(run.PriorSteps + step.Step, step.Loss);
        if (run.Progress is null || totals.Seen == 0)
        {
            return;
        }

        batches = Math.Max(totals.Batches, batches);
        lastStep = new FineTuneProgress(run.Stage, run.Fold, epoch, epochsShown, totals.Batches, batches, totals.Seen,
            totals.Loss, totals.Accuracy, totals.Seen / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed / totals.Batches * (batches - totals.Batches));
        run.Progress.Report(lastStep);
    }

    /// <summary>After every epoch: the step log reaches the disk, history.csv and curves.png are rewritten.</summary>
    public void Epoch(IReadOnlyList<EpochResult> history)
    {
        stepLog?.Flush();
        WriteHistory(HistoryPath, history);
        TrainingCharts.SaveCurves(Path.Combine(run.OutputDirectory, "curves.png"), history);
    }

    /// <summary>
    /// When the epoch is over (written and checkpointed): the report that ends it on the one progress channel, with the
    /// epoch's result and its last step's training numbers (an epoch without a step reports its totals at zero speed).
    /// </summary>
    public void EpochEnd(EpochResult result, EpochTotals totals, int epoch, int batches)
    {
        if (run.Progress is null)
        {
            return;
        }

        var last = lastStep is { } step && step.Epoch == epoch ? step
            : new FineTuneProgress(run.Stage, run.Fold, epoch, epochsShown, totals.Batches, Math.Max(totals.Batches, batches), totals.Seen,
                totals.Loss, totals.Accuracy, 0, TimeSpan.Zero);
        run.Progress.Report(last with { Remaining = TimeSpan.Zero, Completed = result });
    }

    /// <summary>The end of the stage: confusion.png (with validation) and metrics.json, written once.</summary>
    public void Finish(JsonObject metrics, Validation? validation)
    {
        if (validation is not null)
        {
            TrainingCharts.SaveConfusion(Path.Combine(run.OutputDirectory, "confusion.png"), validation.Metrics);
        }

        WriteJson(Path.Combine(run.OutputDirectory, "metrics.json"), metrics);
    }

    public static void WriteJson(string path, JsonNode document) => AtomicFile.WriteText(path, document.ToJsonString(Indented));

    public static JsonObject ReadJson(string path) =>
        JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"'{path}' is not a JSON object.");

    public static void WriteHistory(string path, IReadOnlyList<EpochResult> history)
    {
        var csv = new StringBuilder("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n");
        foreach (var h in history)
        {
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{h.Epoch},{h.TrainLoss:R},{Num(h.TrainAccuracy)},{Num(h.ValidationLoss)},{Num(h.ValidationAccuracy)},{h.LearningRate:G6},{h.Seconds:F3}"));
        }

        AtomicFile.WriteText(path, csv.ToString());
    }

    public static IEnumerable<EpochResult> ReadHistory(string path)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            double D(string t) => t.Length == 0 ? double.NaN : double.Parse(t, CultureInfo.InvariantCulture);
            yield return new EpochResult(int.Parse(f[0], CultureInfo.InvariantCulture), D(f[1]), D(f[2]), D(f[3]), D(f[4]), D(f[5]), D(f[6]));
        }
    }

    private static string Num(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => stepLog?.Dispose();
}

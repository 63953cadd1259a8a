using System.Text.Json.Nodes;
using OnnxCnn.Graphs;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>The two-stage recipe as a composition of two stages.</summary>
public static partial class FineTuner
{
    /// <summary>The folder under the output folder that holds stage 1 of a two-stage run.</summary>
    public const string Stage1Folder = "stage1";

    /// <summary>
    /// Keras's recipe in one run: stage 1 trains the head with the base frozen (into <c>stage1/</c>),
    /// stage 2 loads stage 1's model — its head weights exactly — and trains the stage-2 selection
    /// with the head, with a fresh optimiser, at its own rate (into the output folder). history.csv
    /// numbers epochs across both stages; metrics.json gets a <c>stages</c> array.
    /// On resume, an unfinished stage 1 continues from its checkpoint; after a finished stage 1
    /// (stage1/metrics.json written), stage 2 continues from its checkpoint or starts again.
    /// </summary>
    private static async Task<StageOutcome> RunTwoStageAsync(OnnxModel model, FineTuneData data, FineTuneOptions options, RunContext run, CancellationToken cancellationToken)
    {
        var second = options.SecondStage!;
        var stage1Run = run with { OutputDirectory = Path.Combine(run.OutputDirectory, Stage1Folder), ProgressEpochs = options.Epochs + second.Epochs, Stage = 1 };
        var stage1Metrics = Path.Combine(stage1Run.OutputDirectory, "metrics.json");
        var stage1Done = run.Resume && File.Exists(stage1Metrics);
        var stage1 = stage1Done ? FinishedStage1(stage1Run) : ((IReadOnlyList<EpochResult>, IReadOnlyList<string>, JsonObject, int)?)null;
        if (stage1 is null)
        {
            // Anything stage 2 left here belongs to an older run; a resume must not pick it up.
            AtomicFile.Delete(stage1Metrics);
            AtomicFile.Delete(Path.Combine(run.Artifacts, "checkpoint.onnx"));
            AtomicFile.Delete(Path.Combine(run.Artifacts, "best_checkpoint.onnx"));
            var first = options with { Spec = options.Spec with { Trainable = [], UnfreezeFrom = null }, SecondStage = null };
            var outcome = await Trainer.RunStageAsync(model, data, first, stage1Run, cancellationToken).ConfigureAwait(false);
            stage1 = (outcome.History, outcome.Parameters, outcome.Metrics, Checkpointer.Steps(Path.Combine(stage1Run.Artifacts, "checkpoint.onnx")));
        }

        var (stage1History, head, stage1Doc, stage1Steps) = stage1.Value;
        var secondOptions = options with
        {
            NewHeadClasses = null,
            Hidden = [],
            Spec = options.Spec with
            {
                // The head trained in stage 1 keeps training; with a tensor to unfreeze from it is downstream anyway.
                Trainable = second.Trainable.Count > 0 ? [.. second.Trainable, .. head.Except(second.Trainable, StringComparer.Ordinal)] : [],
                UnfreezeFrom = second.Trainable.Count > 0 ? null : second.UnfreezeFrom,
            },
            Epochs = second.Epochs,
            LearningRate = second.LearningRate ?? options.LearningRate / 10,
            SecondStage = null,
        };
        var stage2Run = run with
        {
            Resume = stage1Done && File.Exists(Path.Combine(run.Artifacts, "checkpoint.onnx")),
            PriorHistory = stage1History,
            PriorSteps = stage1Steps,
            ProgressEpochs = options.Epochs + second.Epochs,
            Stage = 2,
            EarlierStage = (stage1Doc, options.LearningRate),
        };
        var trained = OnnxModel.Load(Path.Combine(stage1Run.OutputDirectory, "model.onnx"));
        return await Trainer.RunStageAsync(trained, data, secondOptions, stage2Run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A finished stage 1 of an interrupted run, read back: its history, trained parameters, metrics and steps.</summary>
    private static (IReadOnlyList<EpochResult> History, IReadOnlyList<string> Parameters, JsonObject Metrics, int Steps) FinishedStage1(RunContext stage1)
    {
        var metrics = RunReporter.ReadJson(Path.Combine(stage1.OutputDirectory, "metrics.json"));
        var parameters = metrics["trainableParameters"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        return (RunReporter.ReadHistory(Path.Combine(stage1.OutputDirectory, "history.csv")).ToList(), parameters, metrics,
            Checkpointer.Steps(Path.Combine(stage1.Artifacts, "checkpoint.onnx")));
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>
/// The fine-tune workflow: a folder of images per class → a new head (optional) → the compiled
/// training step on ORT over the batch pipeline → per-epoch validation on the compiled eval graph →
/// the fine-tuned inference model (labels and preprocessing in its metadata), labels.txt,
/// history.csv, metrics.json, the charts and the training artifacts, all written atomically.
/// </summary>
public static partial class FineTuner
{
    /// <summary>Metadata key holding the class labels, one per line (<see cref="MetadataKeys.Labels"/>).</summary>
    public const string LabelsKey = MetadataKeys.Labels;

    /// <summary>Metadata key holding the preprocessing spec (<see cref="MetadataKeys.Preprocess"/>).</summary>
    public const string PreprocessKey = MetadataKeys.Preprocess;

    /// <summary>
    /// Runs the fine-tune (both stages when <see cref="FineTuneOptions.SecondStage"/> is set) and writes its outputs into
    /// <paramref name="outputDirectory"/>; <paramref name="progress"/> gets each epoch, <see cref="FineTuneOptions.Progress"/> each step.
    /// The settings are checked first (<see cref="Validate"/>), before anything is written.
    /// </summary>
    public static Task<IReadOnlyList<EpochResult>> RunAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, string outputDirectory,
        Action<EpochResult>? progress = null, Action<string>? warning = null, CancellationToken cancellationToken = default)
        => FineTunePlan.Create(model, data, options).RunAsync(outputDirectory, progress, warning, cancellationToken);

    internal static Task<StageOutcome> RunValidatedAsync(FineTunePlan plan, string outputDirectory, Action<EpochResult>? progress, Action<string>? warning, CancellationToken cancellationToken) =>
        RunValidatedAsync(plan.Model, plan.Data, plan.Options, Context(plan.Options, outputDirectory, progress, warning), cancellationToken);

    private static RunContext Context(FineTuneOptions options, string outputDirectory, Action<EpochResult>? progress, Action<string>? warning) =>
        new(outputDirectory) { Resume = options.Resume, StepLog = options.StepLog, Progress = options.Progress, EpochDone = progress, Warning = warning };

    /// <summary>One stage, or the two-stage recipe; the settings were validated by the caller.</summary>
    private static Task<StageOutcome> RunValidatedAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, RunContext run, CancellationToken cancellationToken) =>
        options.SecondStage is not null
            ? RunTwoStageAsync(model, data, options, run, cancellationToken)
            : Trainer.RunStageAsync(model, data, options, run, cancellationToken);
}

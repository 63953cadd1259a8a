using OnnxCnn.Graphs;
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
    /// <paramref name="outputDirectory"/>. The settings are checked first (<see cref="Validate"/>), before anything is written.
    /// </summary>
    /// <param name="model">The model to fine-tune.</param>
    /// <param name="data">The training data (an <see cref="Preprocess.ImageDataset"/> converts), with an optional separate validation set.</param>
    /// <param name="options">The settings.</param>
    /// <param name="outputDirectory">Where the model, reports and artifacts go.</param>
    /// <param name="execution">The sessions' options, the one progress channel (every step and every finished epoch) and the warning sink, or null for none.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>The history, one result per epoch (of both stages in a two-stage run).</returns>
    /// <exception cref="ArgumentException">A setting that cannot work, named in the message.</exception>
    public static Task<IReadOnlyList<EpochResult>> RunAsync(OnnxModel model, FineTuneData data, FineTuneOptions options, string outputDirectory,
        FineTuneExecution? execution = null, CancellationToken cancellationToken = default)
        => FineTunePlan.Create(model, data, options).RunAsync(outputDirectory, execution, cancellationToken);

    internal static Task<StageOutcome> RunValidatedAsync(FineTunePlan plan, string outputDirectory, FineTuneExecution? execution, CancellationToken cancellationToken) =>
        RunValidatedAsync(plan.Model, plan.Data, plan.Options, Context(plan.Options, outputDirectory, execution), cancellationToken);

    private static RunContext Context(FineTuneOptions options, string outputDirectory, FineTuneExecution? execution) =>
        new(outputDirectory)
        {
            Resume = options.Resume,
            StepLog = options.StepLog,
            Session = execution?.Session is { } session ? TrainingSessionOptions(session.Clone()) : null,
            Progress = execution?.Progress,
            Warning = execution?.Warning,
        };

    /// <summary>One stage, or the two-stage recipe; the settings were validated by the caller.</summary>
    private static Task<StageOutcome> RunValidatedAsync(OnnxModel model, FineTuneData data, FineTuneOptions options, RunContext run, CancellationToken cancellationToken) =>
        options.SecondStage is not null
            ? RunTwoStageAsync(model, data, options, run, cancellationToken)
            : Trainer.RunStageAsync(model, data, options, run, cancellationToken);
}

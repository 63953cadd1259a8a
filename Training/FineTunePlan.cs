using OnnxCnn.Graphs;

namespace OnnxCnn.Training;

/// <summary>
/// A fine-tune whose settings were validated (<see cref="FineTuner.Validate"/>, once) against its model and data:
/// a caller checks first — and reports a bad setting before anything is written — then runs it.
/// </summary>
public sealed class FineTunePlan
{
    private FineTunePlan(OnnxModel model, FineTuneData data, FineTuneOptions options, int? kFold)
    {
        Model = model;
        Data = data;
        Options = options;
        KFold = kFold;
    }

    /// <summary>The model to fine-tune.</summary>
    public OnnxModel Model { get; }

    /// <summary>The training data, and the separate validation set if there is one.</summary>
    public FineTuneData Data { get; }

    /// <summary>The validated settings.</summary>
    public FineTuneOptions Options { get; }

    /// <summary>Folds of a K-fold cross-validation, or null for one run.</summary>
    public int? KFold { get; }

    /// <summary>Validates the settings and returns the plan.</summary>
    /// <param name="model">The model to fine-tune.</param>
    /// <param name="data">The training data (an <see cref="Preprocess.ImageDataset"/> converts), with an optional separate validation set.</param>
    /// <param name="options">The settings.</param>
    /// <param name="kFold">K of a K-fold cross-validation (2 to the number of training images), or null for one run.</param>
    /// <param name="names">How the settings are named in the messages (default: the library's names).</param>
    /// <exception cref="ArgumentException">A setting that cannot work, named in the message (with <paramref name="names"/>).</exception>
    public static FineTunePlan Create(OnnxModel model, FineTuneData data, FineTuneOptions options, int? kFold = null, FineTuneSettingNames? names = null)
    {
        FineTuner.Validate(model, data, options, kFold, names);
        return new FineTunePlan(model, data, options, kFold);
    }

    /// <summary>Runs the fine-tune into <paramref name="outputDirectory"/> (see <see cref="FineTuner.RunAsync"/>).</summary>
    /// <param name="outputDirectory">Where the model, reports and artifacts go.</param>
    /// <param name="execution">The sessions' options, the progress channel and the warning sink, or null for none.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>The history, one result per epoch (of both stages in a two-stage run).</returns>
    public async Task<IReadOnlyList<EpochResult>> RunAsync(string outputDirectory, FineTuneExecution? execution = null, CancellationToken cancellationToken = default)
    {
        if (KFold is not null)
        {
            throw new InvalidOperationException("this plan is a K-fold cross-validation; run it with CrossValidateAsync.");
        }

        return (await FineTuner.RunValidatedAsync(this, outputDirectory, execution, cancellationToken).ConfigureAwait(false)).History;
    }

    /// <summary>Runs the K-fold cross-validation into <paramref name="outputDirectory"/> (see <see cref="FineTuner.CrossValidateAsync"/>).</summary>
    /// <param name="outputDirectory">Where the folds' folders and the summary go.</param>
    /// <param name="execution">The sessions' options, the progress channel and the warning sink, or null for none.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>Every fold's result and their mean ± std.</returns>
    public Task<CrossValidationResult> CrossValidateAsync(string outputDirectory, FineTuneExecution? execution = null, CancellationToken cancellationToken = default) =>
        KFold is { } k
            ? FineTuner.CrossValidateValidatedAsync(this, k, outputDirectory, execution, cancellationToken)
            : throw new InvalidOperationException("this plan is one run; create it with a fold count to cross-validate.");
}

using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training;

/// <summary>
/// A fine-tune whose settings were validated (<see cref="FineTuner.Validate"/>, once) against its model and data:
/// a caller checks first — and reports a bad setting before anything is written — then runs it.
/// </summary>
public sealed class FineTunePlan
{
    private FineTunePlan(OnnxModel model, ImageDataset data, FineTuneOptions options, int? kFold)
    {
        Model = model;
        Data = data;
        Options = options;
        KFold = kFold;
    }

    /// <summary>The model to fine-tune.</summary>
    public OnnxModel Model { get; }

    /// <summary>The training data.</summary>
    public ImageDataset Data { get; }

    /// <summary>The validated settings.</summary>
    public FineTuneOptions Options { get; }

    /// <summary>Folds of a K-fold cross-validation, or null for one run.</summary>
    public int? KFold { get; }

    /// <summary>Validates the settings and returns the plan.</summary>
    /// <exception cref="ArgumentException">A setting that cannot work, named in the message (with <paramref name="names"/>).</exception>
    public static FineTunePlan Create(OnnxModel model, ImageDataset data, FineTuneOptions options, int? kFold = null, FineTuneSettingNames? names = null)
    {
        FineTuner.Validate(model, data, options, kFold, names);
        return new FineTunePlan(model, data, options, kFold);
    }

    /// <summary>The same plan reporting every step to <paramref name="progress"/> (not a setting: nothing to validate).</summary>
    public FineTunePlan WithProgress(IProgress<FineTuneProgress>? progress) => new(Model, Data, Options with { Progress = progress }, KFold);

    /// <summary>Runs the fine-tune into <paramref name="outputDirectory"/> (see <see cref="FineTuner.RunAsync"/>).</summary>
    public async Task<IReadOnlyList<EpochResult>> RunAsync(string outputDirectory, Action<EpochResult>? progress = null, Action<string>? warning = null, CancellationToken cancellationToken = default)
    {
        if (KFold is not null)
        {
            throw new InvalidOperationException("this plan is a K-fold cross-validation; run it with CrossValidateAsync.");
        }

        return (await FineTuner.RunValidatedAsync(this, outputDirectory, progress, warning, cancellationToken).ConfigureAwait(false)).History;
    }

    /// <summary>Runs the K-fold cross-validation into <paramref name="outputDirectory"/> (see <see cref="FineTuner.CrossValidateAsync"/>).</summary>
    public Task<CrossValidationResult> CrossValidateAsync(string outputDirectory, Action<EpochResult>? progress = null, Action<string>? warning = null, CancellationToken cancellationToken = default) =>
        KFold is { } k
            ? FineTuner.CrossValidateValidatedAsync(this, k, outputDirectory, progress, warning, cancellationToken)
            : throw new InvalidOperationException("this plan is one run; create it with a fold count to cross-validate.");
}

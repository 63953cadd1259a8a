using System.CommandLine;
using System.Globalization;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The input and selection options of <c>finetune</c>: <c>--val</c>, <c>--head-only</c>, <c>--mode</c>,
/// <c>--input-size</c>, <c>--dropout</c>, <c>--batchnorm</c> and <c>--cache-memory</c>.
/// </summary>
internal sealed class FineTuneInputArgs
{
    private readonly Option<string?> validation = new("--val") { Description = "a separate folder of images per class to validate on (same classes as --data)" };
    private readonly Option<bool> headOnly = new("--head-only") { Description = "train only the classifier head (the default when neither --trainable nor --unfreeze-from is given)" };
    private readonly Option<string> mode = new("--mode") { DefaultValueFactory = _ => "auto", Description = "auto | feature-cache (run the frozen prefix once per image) | end-to-end (every step; needed with --augment)" };
    private readonly Option<string?> inputSize = new("--input-size") { Description = "HxW to train at: the preprocessing's size (or resize target) and the model's input size" };
    private readonly Option<float> dropout = new("--dropout") { Description = "dropout ratio after each hidden layer of the new head (needs --hidden)" };
    private readonly Option<string> batchNorm = new("--batchnorm") { DefaultValueFactory = _ => "frozen", Description = "frozen (running statistics) | train (batch statistics, running statistics updated)" };
    private readonly Option<long> cacheMemory = new("--cache-memory") { DefaultValueFactory = _ => FineTuneOptions.DefaultCacheMemoryBytes >> 20, Description = "MB of cached features kept in memory in feature-cache mode; the rest spill to a temporary file" };

    public void AddTo(Command command)
    {
        command.Add(validation);
        command.Add(headOnly);
        command.Add(mode);
        command.Add(inputSize);
        command.Add(dropout);
        command.Add(batchNorm);
        command.Add(cacheMemory);
    }

    /// <summary>Whether <c>--val</c> was given (it replaces <c>--val-split</c> and excludes <c>--kfold</c>).</summary>
    public bool HasValidation(ParseResult r) => r.GetValue(validation) is not null;

    /// <summary>Checks the options against each other and folds them into <paramref name="options"/>; <paramref name="explicitSplit"/> = --val-split was given.</summary>
    public FineTuneOptions Apply(ParseResult r, FineTuneOptions options, bool explicitSplit)
    {
        if (r.GetValue(headOnly) && (options.Spec.Trainable.Count > 0 || options.Spec.UnfreezeFrom is not null))
        {
            throw new UsageException("--head-only cannot be combined with --trainable or --unfreeze-from; give one selection.");
        }

        var trainingMode = r.GetValue(mode)!.ToLowerInvariant() switch
        {
            "auto" => TrainingMode.Auto,
            "feature-cache" => TrainingMode.FeatureCache,
            "end-to-end" => TrainingMode.EndToEnd,
            var m => throw new UsageException($"--mode '{m}' is not one of auto, feature-cache, end-to-end."),
        };
        var bn = r.GetValue(batchNorm)!.ToLowerInvariant() switch
        {
            "frozen" => BatchNormMode.Frozen,
            "train" => BatchNormMode.Train,
            var b => throw new UsageException($"--batchnorm '{b}' is not frozen or train."),
        };
        var megabytes = r.GetValue(cacheMemory);
        if (megabytes < 0 || megabytes > long.MaxValue >> 20)
        {
            throw new UsageException($"--cache-memory must be 0 or more MB, got {megabytes}.");
        }

        var ratio = r.GetValue(dropout);
        if (!(ratio is >= 0 and < 1))
        {
            throw new UsageException($"--dropout must be in [0, 1), got {ratio.ToString(CultureInfo.InvariantCulture)}.");
        }

        ImageDataset? validationData = null;
        if (r.GetValue(validation) is { } folder)
        {
            if (explicitSplit)
            {
                throw new UsageException("--val gives the validation set; it cannot be combined with --val-split.");
            }

            try
            {
                validationData = ImageDataset.FromFolder(folder);
            }
            catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException)
            {
                throw new UsageException("--val: " + e.Message);
            }
        }

        return options with
        {
            Mode = trainingMode,
            InputSize = ParseSize(r.GetValue(inputSize)),
            Dropout = ratio,
            CacheMemoryBytes = megabytes << 20,
            ValidationData = validationData,
            Spec = options.Spec with { BatchNorm = bn, DropoutSeed = options.Seed },
        };
    }

    private static (int Height, int Width)? ParseSize(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var parts = text.Split('x', 'X');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && h > 0 && w > 0
            ? (h, w)
            : throw new UsageException($"--input-size '{text}' is not HxW (e.g. 224x224).");
    }
}

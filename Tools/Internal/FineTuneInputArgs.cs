using System.CommandLine;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;
using static OnnxCnn.Cli.Internal.OptionParsers;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The input and selection options of <c>finetune</c>: <c>--val</c>, <c>--head-only</c>, <c>--mode</c>,
/// <c>--input-size</c>, <c>--dropout</c>, <c>--batchnorm</c> and <c>--cache-memory</c>. Their values are typed;
/// rules that depend on the model or data are checked once, by <see cref="FineTuner.Validate"/>.
/// </summary>
internal sealed class FineTuneInputArgs
{
    private readonly Option<string?> validation = new("--val") { Description = "a separate folder of images per class to validate on (same classes as --data)" };
    private readonly Option<bool> headOnly = new("--head-only") { Description = "train only the classifier head (the default when neither --trainable nor --unfreeze-from is given)" };
    private readonly Option<TrainingMode> mode = Choice("--mode", "auto | feature-cache (run the frozen prefix once per image) | end-to-end (every step; needed with --augment)", "auto",
        ("auto", TrainingMode.Auto), ("feature-cache", TrainingMode.FeatureCache), ("end-to-end", TrainingMode.EndToEnd));
    private readonly Option<(int Height, int Width)?> inputSize = Size("--input-size", "HxW to train at: the preprocessing's size (or resize target) and the model's input size");
    private readonly Option<float> dropout = new("--dropout") { Description = "dropout of the new head: on the features before its classifier, or after each --hidden layer" };
    private readonly Option<BatchNormMode> batchNorm = Choice("--batchnorm", "frozen (running statistics) | train (batch statistics, running statistics updated)", "frozen",
        ("frozen", BatchNormMode.Frozen), ("train", BatchNormMode.Train));
    private readonly Option<long> cacheMemory = new("--cache-memory") { DefaultValueFactory = _ => FineTuneOptions.DefaultCacheMemoryBytes >> 20, Description = "MB of cached features kept in memory in feature-cache mode; the rest spill to a temporary file" };

    public FineTuneInputArgs()
    {
        // MB on the command line, bytes in the settings: the range is the conversion's.
        cacheMemory.Validators.Add(r =>
        {
            var megabytes = r.GetValueOrDefault<long>();
            if (megabytes < 0 || megabytes > long.MaxValue >> 20)
            {
                r.AddError($"--cache-memory must be 0 or more MB, got {megabytes}.");
            }
        });
    }

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

    /// <summary>Checks the options' combinations and folds them into <paramref name="options"/>.</summary>
    public FineTuneOptions Apply(ParseResult r, FineTuneOptions options)
    {
        if (r.GetValue(headOnly) && (options.Spec.Trainable.Count > 0 || options.Spec.UnfreezeFrom is not null))
        {
            throw new UsageException("--head-only cannot be combined with --trainable or --unfreeze-from; give one selection.");
        }

        return options with
        {
            Mode = r.GetValue(mode),
            InputSize = r.GetValue(inputSize),
            Dropout = r.GetValue(dropout),
            CacheMemoryBytes = r.GetValue(cacheMemory) << 20,
            Spec = options.Spec with { BatchNorm = r.GetValue(batchNorm), DropoutSeed = options.Seed },
        };
    }

    /// <summary>The run's data: <paramref name="train"/> and the <c>--val</c> folder if given; <paramref name="explicitSplit"/> = --val-split was given.</summary>
    public FineTuneData Data(ParseResult r, ImageDataset train, bool explicitSplit)
    {
        if (r.GetValue(validation) is not { } folder)
        {
            return new FineTuneData(train);
        }

        if (explicitSplit)
        {
            throw new UsageException("--val gives the validation set; it cannot be combined with --val-split.");
        }

        try
        {
            return new FineTuneData(train, ImageDataset.FromFolder(folder));
        }
        catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException)
        {
            throw new UsageException("--val: " + e.Message);
        }
    }
}

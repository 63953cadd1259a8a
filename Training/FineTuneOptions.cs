using OnnxCnn.Graphs.Edits;
using OnnxCnn.Preprocess;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>
/// A fine-tuning run's settings and nothing else: an immutable record that compares equal when every setting does (lists
/// by their items), prints them (<see cref="object.ToString"/>), and is checked once, by <see cref="FineTunePlan.Create"/>;
/// <c>with</c> copies every setting (per stage or fold). The images are the run's <see cref="FineTuneData"/>; how it
/// executes (device, threads) and who hears of its progress are its <see cref="FineTuneExecution"/>.
/// </summary>
public sealed record FineTuneOptions
{
    /// <summary>How the frozen prefix is run.</summary>
    public TrainingMode Mode { get; init; } = TrainingMode.Auto;

    /// <summary>Classes of a new head (null keeps the model's head).</summary>
    public int? NewHeadClasses { get; init; }

    /// <summary>Hidden widths of a new head.</summary>
    public IReadOnlyList<int> Hidden { get; init => field = ValueList.Of(value); } = ValueList<int>.Empty;

    /// <summary>How a new head reads a backbone that ends in a feature map [N,C,H,W] (see <see cref="HeadSpec.Pool"/>).</summary>
    public HeadPool? Pool { get; init; }

    /// <summary>What trains and how (empty globs and no unfreeze tensor = head only).</summary>
    public TrainingSpec Spec { get; init; } = new();

    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Batch size.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Base learning rate.</summary>
    public float LearningRate { get; init; } = 0.01f;

    /// <summary>Schedule of the learning rate around <see cref="LearningRate"/> (constant by default).</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Preprocessing of every image.</summary>
    public PreprocessSpec Preprocess { get; init; } = PreprocessSpec.ImageNet;

    /// <summary>Augmentation of training images, or null.</summary>
    public AugmentSpec? Augment { get; init; }

    /// <summary>Fraction held out for validation (0 = none); unused with a separate <see cref="FineTuneData.Validation"/> set or K-fold.</summary>
    public double ValidationSplit { get; init; } = 0.2;

    /// <summary>Seed of the split, shuffling, head init and augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>Keep dataset order instead of shuffling each epoch.</summary>
    public bool NoShuffle { get; init; }

    /// <summary>Stop after this many epochs without a validation-loss improvement (0 = never); the best epoch's weights are exported.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Smallest validation-loss decrease that counts as an improvement.</summary>
    public double EarlyStoppingMinDelta { get; init; }

    /// <summary>Weight the loss by inverse class frequency of the training split (imbalanced data).</summary>
    public bool ClassWeights { get; init; }

    /// <summary>Draw each epoch with equal label frequency (balanced sampler) instead of a plain shuffle.</summary>
    public bool Balanced { get; init; }

    /// <summary>Continue an earlier run in this output folder from its last checkpoint (same settings required).</summary>
    public bool Resume { get; init; }

    /// <summary>The default <see cref="CacheMemoryBytes"/>: 2 GiB.</summary>
    public const long DefaultCacheMemoryBytes = 2048L << 20;

    /// <summary>
    /// Train at this input size (height, width), or null for the preprocessing spec's size. A spec without a fixed size
    /// resizes to exactly H×W; a spec with one keeps its shape scaled to H×W (a centre crop becomes H×W and the resize
    /// before it scales by the same ratio: ImageNet's 256→224 becomes 183→160). The model's spatial input dimensions
    /// are set to H×W, so a fully convolutional model trains and exports at that size.
    /// </summary>
    public (int Height, int Width)? InputSize { get; init; }

    /// <summary>Dropout ratio after each hidden layer of the new head (needs <see cref="NewHeadClasses"/> and <see cref="Hidden"/>; 0 = none).</summary>
    public float Dropout { get; init; }

    /// <summary>
    /// Feature-cache mode keeps at most this many bytes of prefix outputs in memory; the rest go to one temporary
    /// file of fixed-size records under the output's <c>artifacts/</c> (written in the first epoch, read back in later
    /// ones, deleted when the run ends or fails). 0 puts every sample on disk.
    /// </summary>
    public long CacheMemoryBytes { get; init; } = DefaultCacheMemoryBytes;

    /// <summary>A CSV file that gets <c>step,loss</c> for every optimiser step (flushed each epoch; continued on resume), or null.</summary>
    public string? StepLog { get; init; }

    /// <summary>
    /// The two-stage recipe: stage 1 trains only the head (the rest of <see cref="Spec"/>'s selection is
    /// ignored) for <see cref="Epochs"/> at <see cref="LearningRate"/>; stage 2 starts from its weights and
    /// trains this selection. Null = one stage.
    /// </summary>
    public TwoStageOptions? SecondStage { get; init; }
}

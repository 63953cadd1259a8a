using OnnxCnn.Preprocess;

namespace OnnxCnn.Training;

/// <summary>Input settings: a separate validation set, the input size, the new head's dropout and the feature cache's memory.</summary>
public sealed partial record FineTuneOptions
{
    /// <summary>The default <see cref="CacheMemoryBytes"/>: 2 GiB.</summary>
    public const long DefaultCacheMemoryBytes = 2048L << 20;

    /// <summary>
    /// A separate labelled set to validate on (its classes must equal the training data's, in order), or null to
    /// hold out <see cref="ValidationSplit"/> of the training data. Not with K-fold cross-validation.
    /// </summary>
    public ImageDataset? ValidationData { get; init; }

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
}

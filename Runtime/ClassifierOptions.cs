using OnnxCnn.Preprocess;

namespace OnnxCnn.Runtime;

/// <summary>
/// Settings of a <see cref="Classifier"/>; everything is optional. Labels and preprocessing default
/// to the model's metadata (a model fine-tuned by OnnxCnn carries both), then to class indices and
/// <see cref="PreprocessSpec.ImageNet"/>.
/// </summary>
public sealed class ClassifierOptions
{
    /// <summary>Where the model runs (<c>cpu</c>, <c>cuda[:id]</c>, <c>auto</c>); overrides <see cref="Session"/>'s device. Default: <see cref="Session"/>'s, else CPU.</summary>
    public ExecutionDevice? Device { get; init; }

    /// <summary>
    /// Session settings (threads, optimisation level, execution provider options); the classifier copies them. Unless
    /// they say otherwise, intra-op threads do not spin and their count is the processor count, since image decoding shares
    /// the cores (<c>session.intra_op.allow_spinning</c> in <see cref="SessionOptions.ConfigEntries"/> turns spinning back on).
    /// </summary>
    public SessionOptions? Session { get; init; }

    /// <summary>
    /// ONNX Runtime's own options instead (any execution provider: TensorRT, OpenVINO, DirectML …), used as
    /// they are and left to the caller to dispose; not together with <see cref="Device"/> or <see cref="Session"/>.
    /// </summary>
    public Microsoft.ML.OnnxRuntime.SessionOptions? OrtSession { get; init; }

    /// <summary>The class labels in class-index order (instead of the model's metadata). Not together with <see cref="LabelsFile"/>.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>A text file with one label per line (trailing blank lines ignored). Not together with <see cref="Labels"/>.</summary>
    public string? LabelsFile { get; init; }

    /// <summary>The preprocessing (instead of the model's metadata); it must give a fixed size.</summary>
    public PreprocessSpec? Preprocess { get; init; }

    /// <summary>Images per ONNX Runtime run in <see cref="Classifier.ClassifyBatch"/> (a model with a fixed batch size uses its own). Default 16.</summary>
    public int BatchSize
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, $"BatchSize must be 1 or more, got {value}.");
    } = 16;

    /// <summary>Decode and preprocessing worker threads of the batch calls (they decode the next runs while the model runs). Default: one per core.</summary>
    public int DecodeThreads
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(DecodeThreads), value, $"DecodeThreads must be 1 or more, got {value}.");
    } = Environment.ProcessorCount;
}

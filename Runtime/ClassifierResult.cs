using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>
/// One image's outcome in <see cref="Classifier.ClassifyEach"/>: the class probabilities, or why the
/// image could not be read.
/// </summary>
public sealed class ClassifierResult
{
    private readonly float[] probabilities;
    private readonly IReadOnlyList<string> labels;

    internal ClassifierResult(string source, float[]? probabilities, string? error, IReadOnlyList<string> labels)
    {
        Source = source;
        this.probabilities = probabilities ?? [];
        Error = error;
        this.labels = labels;
    }

    /// <summary>The image path as given.</summary>
    public string Source { get; }

    /// <summary>Why the image could not be read (the message names the file); null when it was classified.</summary>
    public string? Error { get; }

    /// <summary>True when the image was classified.</summary>
    public bool Succeeded => Error is null;

    /// <summary>The probability of every class, by class index (empty when the image could not be read).</summary>
    public IReadOnlyList<float> Probabilities => probabilities;

    /// <summary>The <paramref name="count"/> most probable classes, most probable first (ties by class index).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The image could not be read.</exception>
    public IReadOnlyList<Prediction> Top(int count = 5)
    {
        Classifier.CheckTop(count);
        return Succeeded ? HeadScores.Top(probabilities, count, labels) : throw new InvalidOperationException(Error);
    }
}

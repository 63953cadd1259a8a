namespace OnnxCnn.Training;

/// <summary>One batch evaluated on the eval graph.</summary>
public sealed class EvalResult
{
    internal EvalResult(float loss, float[] logits, long[] logitsShape)
    {
        Loss = loss;
        Logits = logits;
        LogitsShape = logitsShape;
    }

    /// <summary>The batch's mean training loss.</summary>
    public float Loss { get; }

    /// <summary>The logits, row-major; a read-only view.</summary>
    public ReadOnlyMemory<float> Logits { get; }

    /// <summary>The shape of <see cref="Logits"/>.</summary>
    public IReadOnlyList<long> LogitsShape { get; }
}

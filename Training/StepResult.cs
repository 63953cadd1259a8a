namespace OnnxCnn.Training;

/// <summary>What the non-finite guard of a training step did.</summary>
public enum StepGuard
{
    /// <summary>The loss was finite; the update was applied.</summary>
    Applied,

    /// <summary>
    /// The loss was NaN or infinite; the update was discarded, every carried tensor (parameters,
    /// optimiser state, running statistics) and the step count kept their values before the step.
    /// </summary>
    Discarded,
}

/// <summary>One optimiser step's outcome: the loss, the logits (computed before the update) and what the guard did.</summary>
public sealed class StepResult
{
    internal StepResult(float loss, float[] logits, long[] logitsShape, IReadOnlyDictionary<string, ReadOnlyMemory<float>> gradients, StepGuard guard, int step)
    {
        Loss = loss;
        Logits = logits;
        LogitsShape = logitsShape;
        Gradients = gradients;
        Guard = guard;
        Step = step;
    }

    /// <summary>The batch's mean loss before the update.</summary>
    public float Loss { get; }

    /// <summary>The logits of the batch (before the update), row-major; a read-only view.</summary>
    public ReadOnlyMemory<float> Logits { get; }

    /// <summary>The shape of <see cref="Logits"/>.</summary>
    public IReadOnlyList<long> LogitsShape { get; }

    /// <summary>Each parameter's gradient when the spec exposes them (<see cref="TrainingSpec.ExposeGradients"/>), else empty.</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<float>> Gradients { get; }

    /// <summary>Whether the update was applied or discarded by the non-finite guard.</summary>
    public StepGuard Guard { get; }

    /// <summary>The 1-based number of this step (the step count after it when applied).</summary>
    public int Step { get; }

    /// <summary>The predicted class of sample <paramref name="index"/>: the arg-max row, or for one logit per sample class 1 when it is positive (sigmoid > 0.5).</summary>
    public int Predicted(int index)
    {
        var span = Logits.Span;
        var columns = (int)(LogitsShape.Count > 1 ? LogitsShape[^1] : 1);
        if (columns == 1)
        {
            return span[index] > 0 ? 1 : 0;
        }

        var row = span.Slice(index * columns, columns);
        var best = 0;
        for (var c = 1; c < columns; c++)
        {
            if (row[c] > row[best])
            {
                best = c;
            }
        }

        return best;
    }
}

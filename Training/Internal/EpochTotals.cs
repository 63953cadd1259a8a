namespace OnnxCnn.Training.Internal;

/// <summary>The running loss and accuracy of one training epoch, from each step's result.</summary>
internal sealed class EpochTotals(Action<StepResult, EpochTotals>? stepDone = null)
{
    public double LossSum { get; private set; }

    public long Seen { get; private set; }

    public long Correct { get; private set; }

    public int Batches { get; private set; }

    /// <summary>Time the step loop spent waiting for the pipeline's next batch.</summary>
    public TimeSpan InputWait { get; private set; }

    public double Loss => LossSum / Math.Max(1, Seen);

    public double Accuracy => Seen == 0 ? double.NaN : (double)Correct / Seen;

    /// <summary>Adds time spent waiting for a batch.</summary>
    public void Waited(TimeSpan wait) => InputWait += wait;

    /// <summary>Adds a step on <paramref name="labels"/>: its loss weighted by the batch size and its logits' correct predictions.</summary>
    public void Add(StepResult step, ReadOnlySpan<int> labels)
    {
        LossSum += step.Loss * labels.Length;
        Seen += labels.Length;
        Batches++;
        for (var i = 0; i < labels.Length; i++)
        {
            Correct += step.Predicted(i) == labels[i] ? 1 : 0;
        }

        stepDone?.Invoke(step, this);
    }
}

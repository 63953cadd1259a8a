namespace OnnxCnn.Training.Internal;

/// <summary>The running loss and accuracy of one training epoch, from each step's result.</summary>
internal sealed class EpochTotals(Action<StepResult, EpochTotals>? stepDone = null)
{
    public double LossSum { get; private set; }

    public long Seen { get; private set; }

    public long Correct { get; private set; }

    public int Batches { get; private set; }

    private readonly long started = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Seconds from the epoch's start to the end of its first step (batch wait, prefix and ORT's first run included), or NaN before it.</summary>
    public double FirstStepSeconds { get; private set; } = double.NaN;

    /// <summary>Samples of the epoch's first step.</summary>
    public int FirstStepImages { get; private set; }

    /// <summary>Time the step loop spent waiting for the pipeline's next batch.</summary>
    public TimeSpan InputWait { get; private set; }

    public double Loss => LossSum / Math.Max(1, Seen);

    public double Accuracy => Seen == 0 ? double.NaN : (double)Correct / Seen;

    /// <summary>Adds time spent waiting for a batch.</summary>
    public void Waited(TimeSpan wait) => InputWait += wait;

    /// <summary>Adds a step on <paramref name="labels"/>: its loss weighted by the batch size and its logits' correct predictions.</summary>
    public void Add(StepResult step, ReadOnlySpan<int> labels)
    {
        if (Batches == 0)
        {
            FirstStepSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            FirstStepImages = labels.Length;
        }

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

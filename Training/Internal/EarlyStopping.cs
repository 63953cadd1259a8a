namespace OnnxCnn.Training.Internal;

/// <summary>Early stopping on the validation loss: the best value so far and the epochs since it.</summary>
internal sealed class EarlyStopping(int patience, double minDelta)
{
    private double best = double.PositiveInfinity;
    private int sinceBest;

    /// <summary>Whether the run should stop (never without patience).</summary>
    public bool ShouldStop => patience > 0 && sinceBest >= patience;

    /// <summary>Counts an epoch's validation loss; true when it improves on the best by more than the minimum delta.</summary>
    public bool Improved(double validationLoss)
    {
        if (!double.IsNaN(validationLoss) && validationLoss < best - minDelta)
        {
            best = validationLoss;
            sinceBest = 0;
            return true;
        }

        sinceBest++;
        return false;
    }

    /// <summary>Replays epochs already run (a resumed run stops where an uninterrupted one does).</summary>
    public void Replay(IEnumerable<EpochResult> done)
    {
        foreach (var epoch in done)
        {
            Improved(epoch.ValidationLoss);
        }
    }
}

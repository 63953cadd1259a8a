namespace OnnxCnn.Training;

/// <summary>
/// A report of the one progress channel (<see cref="FineTuneExecution.Progress"/>): after every optimiser step, and once
/// when an epoch ends, then with <see cref="Completed"/> set and the epoch's final training numbers.
/// </summary>
/// <param name="Stage">1, or 2 in the second stage of a two-stage run.</param>
/// <param name="Fold">1-based fold of a K-fold run, else 0.</param>
/// <param name="Epoch">1-based epoch, counted across stages.</param>
/// <param name="Epochs">Epochs planned for the whole run (early stopping may end it sooner).</param>
/// <param name="Batch">1-based batch within the epoch.</param>
/// <param name="Batches">Batches in the epoch.</param>
/// <param name="Images">Images trained on so far in this epoch.</param>
/// <param name="Loss">Mean training loss so far in this epoch.</param>
/// <param name="Accuracy">Training accuracy so far in this epoch.</param>
/// <param name="ImagesPerSecond">Training throughput so far in this epoch.</param>
/// <param name="Remaining">Estimated time left in this epoch's training (validation not included).</param>
public sealed record FineTuneProgress(int Stage, int Fold, int Epoch, int Epochs, int Batch, int Batches, long Images, double Loss, double Accuracy,
    double ImagesPerSecond, TimeSpan Remaining)
{
    /// <summary>
    /// On the report that ends an epoch, the epoch's result (validation included), after it was written to history.csv
    /// and checkpointed; null on a step report.
    /// </summary>
    public EpochResult? Completed { get; init; }

    /// <summary>Whether this report ends an epoch (<see cref="Completed"/> is set).</summary>
    public bool IsEpochEnd => Completed is not null;
}

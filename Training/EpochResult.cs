namespace OnnxCnn.Training;

/// <summary>One epoch's numbers (history.csv columns).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="TrainAccuracy">Training accuracy (from the step's logits, before each update).</param>
/// <param name="ValidationLoss">Validation loss, or NaN without validation.</param>
/// <param name="ValidationAccuracy">Validation accuracy, or NaN.</param>
/// <param name="LearningRate">Learning rate used.</param>
/// <param name="Seconds">Wall time of the epoch.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss, double ValidationAccuracy, double LearningRate, double Seconds);

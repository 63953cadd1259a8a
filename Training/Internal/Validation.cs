namespace OnnxCnn.Training.Internal;

/// <summary>A validation set's mean loss and metrics.</summary>
internal sealed record Validation(double Loss, ClassificationMetrics Metrics)
{
    public double Accuracy => Metrics.Accuracy;
}

namespace OnnxCnn.Training.Internal;

/// <summary>What one stage leaves behind: its history (with earlier stages'), and the exported model's validation numbers.</summary>
internal sealed record StageOutcome(IReadOnlyList<EpochResult> History, double ValidationLoss, ClassificationMetrics? Validation, IReadOnlyList<string> Parameters, TrainingMode Mode);

namespace OnnxCnn.Training;

/// <summary>One fold's exported model on its held-out fold.</summary>
/// <param name="Fold">1-based fold.</param>
/// <param name="Epochs">Epochs trained (all stages).</param>
/// <param name="ValidationLoss">Mean cross-entropy on the held-out fold.</param>
/// <param name="ValidationAccuracy">Accuracy on the held-out fold.</param>
/// <param name="MacroF1">Macro-averaged F1 on the held-out fold.</param>
public sealed record FoldResult(int Fold, int Epochs, double ValidationLoss, double ValidationAccuracy, double MacroF1);

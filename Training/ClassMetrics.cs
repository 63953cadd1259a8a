namespace OnnxCnn.Training;

/// <summary>Precision, recall, F1 and support of one class.</summary>
/// <param name="Label">Class name.</param>
/// <param name="Precision">TP / (TP + FP); 0 when nothing was predicted as the class.</param>
/// <param name="Recall">TP / (TP + FN) (sensitivity); 0 when the class has no samples.</param>
/// <param name="F1">Harmonic mean of precision and recall; 0 when both are 0.</param>
/// <param name="Support">Samples of the class.</param>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

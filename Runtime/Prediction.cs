namespace OnnxCnn.Runtime;

/// <summary>One class of a <see cref="Classifier"/>'s answer.</summary>
/// <param name="Label">The class label (its index as text when the model carries no labels).</param>
/// <param name="Index">The class index: the column of the model's output.</param>
/// <param name="Probability">The class probability, 0–1.</param>
public readonly record struct Prediction(string Label, int Index, float Probability);

namespace OnnxCnn.Training;

/// <summary>The loss the training step minimises.</summary>
public enum LossKind
{
    /// <summary>Softmax cross-entropy over [batch, classes] logits (PyTorch's CrossEntropyLoss).</summary>
    SoftmaxCrossEntropy,
    /// <summary>Sigmoid binary cross-entropy over one logit per sample, [batch, 1] or [batch] (PyTorch's BCEWithLogitsLoss); label 1 is the positive class.</summary>
    SigmoidBinaryCrossEntropy,
}

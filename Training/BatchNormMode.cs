namespace OnnxCnn.Training;

/// <summary>How BatchNormalization layers in the trainable part behave while training.</summary>
public enum BatchNormMode
{
    /// <summary>Running statistics, left unchanged (inference mode; the fine-tuning default).</summary>
    Frozen,
    /// <summary>Batch statistics, with the running statistics updated as PyTorch's model.train() does.</summary>
    Train,
}

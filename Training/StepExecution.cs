namespace OnnxCnn.Training;

/// <summary>How a <see cref="TrainingSession"/> hands the carried tensors (parameters, optimiser state, running statistics) to each step.</summary>
public enum StepExecution
{
    /// <summary><see cref="Bound"/>: measured at least as fast as <see cref="Feeds"/> on the CPU, and needed on CUDA.</summary>
    Auto,

    /// <summary>
    /// Two sets of the carried tensors allocated once on the session's device and bound through IO
    /// binding: a step reads set A and writes set B, then they swap. Only the batch, labels,
    /// learning rates and step number go in; only the loss and logits come back to the host.
    /// </summary>
    Bound,

    /// <summary>The carried tensors are host tensors fed as inputs each step and their new values copied back.</summary>
    Feeds,
}

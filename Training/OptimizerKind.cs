namespace OnnxCnn.Training;

/// <summary>Optimisers, with PyTorch's update rules.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with optional momentum/Nesterov (PyTorch semantics, dampening 0).</summary>
    Sgd,
    /// <summary>Adam with bias correction.</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
    /// <summary>RMSprop (PyTorch semantics: ε outside the square root, optional momentum and centering).</summary>
    RmsProp,
}

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
}

/// <summary>How BatchNormalization layers in the trainable part behave while training.</summary>
public enum BatchNormMode
{
    /// <summary>Running statistics, left unchanged (inference mode; the fine-tuning default).</summary>
    Frozen,
    /// <summary>Batch statistics, with the running statistics updated as PyTorch's model.train() does.</summary>
    Train,
}

/// <summary>What to train and how.</summary>
public sealed class TrainingSpec
{
    /// <summary>Name globs of trainable parameters or their nodes; empty = use <see cref="UnfreezeFrom"/> or the head.</summary>
    public IReadOnlyList<string> Trainable { get; init; } = [];

    /// <summary>Train everything downstream of this tensor (e.g. the output of VGG16's block4_pool).</summary>
    public string? UnfreezeFrom { get; init; }

    /// <summary>The optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>SGD momentum.</summary>
    public float Momentum { get; init; }

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam β2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Weight decay (L2 for SGD/Adam, decoupled for AdamW).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Per-class loss weights (PyTorch's CrossEntropyLoss weight: weighted mean over the batch), or null.</summary>
    public IReadOnlyList<float>? ClassWeights { get; init; }

    /// <summary>Label smoothing of the cross-entropy (0 = none).</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>BatchNormalization in the step graph: frozen statistics (default) or batch statistics with running updates.</summary>
    public BatchNormMode BatchNorm { get; init; } = BatchNormMode.Frozen;

    /// <summary>Dropout active while training (inverted dropout, PyTorch's model.train()); false keeps it the identity.</summary>
    public bool Dropout { get; init; } = true;

    /// <summary>Seed of the dropout masks; a mask depends only on this, the node and the step number.</summary>
    public int DropoutSeed { get; init; }

    /// <summary>Adds "grad:NAME" outputs with each parameter's gradient (for checks and debugging).</summary>
    public bool ExposeGradients { get; init; }
}

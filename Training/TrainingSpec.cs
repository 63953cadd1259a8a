using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>What to train and how (a settings record: equal when every setting is, lists compared by their items).</summary>
public sealed record TrainingSpec
{
    /// <summary>Name globs of trainable parameters or their nodes; empty = use <see cref="UnfreezeFrom"/> or the head.</summary>
    public IReadOnlyList<string> Trainable { get; init => field = ValueList.Of(value); } = ValueList<string>.Empty;

    /// <summary>Train everything downstream of this tensor (e.g. the output of VGG16's block4_pool).</summary>
    public string? UnfreezeFrom { get; init; }

    /// <summary>The optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>Momentum of SGD or RMSprop.</summary>
    public float Momentum { get; init; }

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam β2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>ε of Adam and RMSprop.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>RMSprop smoothing constant α of the squared-gradient average.</summary>
    public float Alpha { get; init; } = 0.99f;

    /// <summary>Centered RMSprop: normalise by the estimated variance instead of the raw second moment.</summary>
    public bool Centered { get; init; }

    /// <summary>Weight decay (L2 for SGD/Adam/RMSprop, decoupled for AdamW).</summary>
    public float WeightDecay { get; init; }

    /// <summary>
    /// Global-norm gradient clipping (PyTorch's clip_grad_norm_): every gradient is scaled by
    /// min(1, max / (‖all gradients‖₂ + 1e-6)) before weight decay and the optimiser; 0 = none.
    /// </summary>
    public float ClipGradNorm { get; init; }

    /// <summary>Parameter groups with their own learning-rate inputs; parameters in no group use <c>learning_rate</c>.</summary>
    public IReadOnlyList<LearningRateGroup> LearningRateGroups { get; init => field = ValueList.Of(value); } = ValueList<LearningRateGroup>.Empty;

    /// <summary>The loss.</summary>
    public LossKind Loss { get; init; } = LossKind.SoftmaxCrossEntropy;

    /// <summary>Binary cross-entropy: weight of the positive class's term (BCEWithLogitsLoss's pos_weight); 1 = none.</summary>
    public float PositiveWeight { get; init; } = 1f;

    /// <summary>
    /// Per-class loss weights, or null. Softmax cross-entropy: PyTorch's CrossEntropyLoss weight (Σ w[y]·loss / Σ w[y]).
    /// Binary cross-entropy: two weights, each sample's term scaled by w[y] and averaged over the batch (BCEWithLogitsLoss with weight = w[labels]).
    /// </summary>
    public IReadOnlyList<float>? ClassWeights { get; init => field = value is null ? null : ValueList.Of(value); }

    /// <summary>Label smoothing (0 = none): softmax targets (1−ε)·onehot + ε/classes; binary targets (1−ε)·y + ε/2, as Keras.</summary>
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

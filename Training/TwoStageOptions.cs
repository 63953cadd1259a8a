using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>Stage 2 of the two-stage recipe: what to unfreeze, at which rate, for how long.</summary>
public sealed record TwoStageOptions
{
    /// <summary>Node/parameter name globs to train in stage 2 (the head trained in stage 1 is added).</summary>
    public IReadOnlyList<string> Trainable { get; init => field = ValueList.Of(value); } = ValueList<string>.Empty;

    /// <summary>Train everything downstream of this tensor in stage 2 (used when <see cref="Trainable"/> is empty).</summary>
    public string? UnfreezeFrom { get; init; }

    /// <summary>Stage 2's epochs.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Stage 2's base learning rate; null = a tenth of stage 1's.</summary>
    public float? LearningRate { get; init; }
}

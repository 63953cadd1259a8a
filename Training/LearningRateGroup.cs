using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>A parameter group with its own learning rate: a scalar graph input <c>learning_rate:NAME</c>.</summary>
/// <param name="Name">Group name (the input is <c>learning_rate:</c> + name).</param>
/// <param name="Globs">Parameter or node name globs, as in <see cref="TrainingSpec.Trainable"/>; a parameter joins the first group that matches it.</param>
/// <param name="Multiplier">The group's rate as a multiple of the base rate, used when no explicit rate is given for the group.</param>
public sealed record LearningRateGroup(string Name, IReadOnlyList<string> Globs, float Multiplier)
{
    /// <summary>Parameter or node name globs (compared and printed by their items).</summary>
    public IReadOnlyList<string> Globs { get; init => field = ValueList.Of(value); } = ValueList.Of(Globs);
}

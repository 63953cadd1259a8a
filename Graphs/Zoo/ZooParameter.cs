namespace OnnxCnn.Graphs.Zoo;

/// <summary>One entry of a zoo model's <c>state_dict()</c>: an initializer's name and shape.</summary>
/// <param name="Name">The torchvision key, such as <c>layer1.0.conv1.weight</c>.</param>
/// <param name="Shape">Dimensions, as in PyTorch (Conv [out, in, kh, kw], Linear [out, in]).</param>
public sealed record ZooParameter(string Name, IReadOnlyList<long> Shape)
{
    /// <summary>Number of float elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Whether this is a BatchNorm running statistic (<c>running_mean</c>, <c>running_var</c>):
    /// a buffer in PyTorch, so not counted by <c>model.parameters()</c>.
    /// </summary>
    public bool IsBuffer => Name.EndsWith(".running_mean", StringComparison.Ordinal) || Name.EndsWith(".running_var", StringComparison.Ordinal);
}

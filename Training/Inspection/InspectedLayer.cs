namespace OnnxCnn.Training.Inspection;

/// <summary>A tensor of a model chosen for inspection.</summary>
/// <param name="Name">The layer's name: the node that starts it (for a Conv followed by its BatchNorm and activation, the Conv).</param>
/// <param name="Tensor">The tensor shown: the layer's output (after that BatchNorm and activation).</param>
/// <param name="OpType">The operator of the node named by <paramref name="Name"/>.</param>
public sealed record InspectedLayer(string Name, string Tensor, string OpType);

/// <summary>One layer's output for one input.</summary>
/// <param name="Layer">The layer it belongs to.</param>
/// <param name="Shape">The tensor's shape (N×C×H×W for feature maps).</param>
/// <param name="Values">The values, row-major.</param>
public sealed record LayerActivation(InspectedLayer Layer, IReadOnlyList<long> Shape, float[] Values)
{
    /// <summary>True for a 4-D N×C×H×W feature map (the kind a grid draws).</summary>
    public bool IsFeatureMap => Shape.Count == 4;

    /// <summary>Channels of a feature map (C).</summary>
    public int Channels => IsFeatureMap ? (int)Shape[1] : throw NotFeatureMap();

    /// <summary>Height of a feature map (H).</summary>
    public int Height => IsFeatureMap ? (int)Shape[2] : throw NotFeatureMap();

    /// <summary>Width of a feature map (W).</summary>
    public int Width => IsFeatureMap ? (int)Shape[3] : throw NotFeatureMap();

    /// <summary>The plane of channel <paramref name="channel"/> of the first image.</summary>
    public ReadOnlySpan<float> Channel(int channel)
    {
        var plane = Height * Width;
        return Values.AsSpan(channel * plane, plane);
    }

    private InvalidOperationException NotFeatureMap() =>
        new($"'{Layer.Tensor}' is {OnnxCnn.Runtime.Tensor.FormatShape(Shape)}, not an N×C×H×W feature map.");
}

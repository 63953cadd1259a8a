using OnnxCnn.Graphs.Proto;
using OnnxCnn.Graphs.Zoo.Internal;

namespace OnnxCnn.Graphs.Zoo;

/// <summary>
/// Builds torchvision's image classifiers as plain ONNX with seeded random weights: the
/// topology, parameter names and shapes of torchvision's models, for tests, benchmarks and
/// training from scratch, without PyTorch.
/// </summary>
public static class ModelZoo
{
    /// <summary>The models <see cref="Build"/> knows, in torchvision's spelling.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101"];

    /// <summary>
    /// Builds the model called <paramref name="name"/> (one of <see cref="Names"/>, any case).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The result is ONNX IR version 8, opset 17 (ai.onnx only), with input <c>input</c> float
    /// [batch, 3, <see cref="ZooOptions.InputHeight"/>, <see cref="ZooOptions.InputWidth"/>]
    /// (<c>batch</c> symbolic) and output <c>logits</c> float [batch, <see cref="ZooOptions.Classes"/>].
    /// </para>
    /// <para>
    /// Initializers carry the names, shapes and order of torchvision's <c>state_dict()</c>
    /// (<c>conv1.weight</c>, <c>layer1.0.downsample.1.running_var</c>, <c>fc.bias</c>,
    /// <c>features.0.weight</c>, <c>classifier.6.bias</c>, …), so weights can be exchanged with
    /// PyTorch by name. BatchNorm's <c>num_batches_tracked</c> buffers are not initializers: they
    /// only steer the running-average momentum while training, and an inference graph never reads
    /// them. BatchNormalization stays a node (not folded into Conv). Nodes and intermediate tensors
    /// are named as <c>torch.onnx.export</c> names them (<c>/layer1/layer1.0/conv1/Conv</c>,
    /// <c>/layer1/layer1.0/Add</c>, <c>/avgpool/GlobalAveragePool</c>, <c>/Flatten</c>, <c>/fc/Gemm</c>,
    /// <c>/classifier/classifier.0/Gemm</c>); Linear layers are Gemm with transB = 1 and weights
    /// [out, in]. VGG keeps its two Dropout layers as inference-mode Dropout nodes.
    /// </para>
    /// <para>
    /// Weights follow torchvision's init, drawn from this library's own seeded generator (so the
    /// same <see cref="ZooOptions.Seed"/> gives the same bytes; the values are not torch's):
    /// ResNet convs kaiming_normal_(mode='fan_out', nonlinearity='relu'), i.e. normal with
    /// std √(2 / (out_channels·kh·kw)); BatchNorm weight 1, bias 0, running mean 0, running var 1;
    /// fc PyTorch's Linear default, weight and bias uniform(−1/√fan_in, 1/√fan_in). VGG convs the
    /// same kaiming normal with bias 0; Linear weight normal(0, 0.01), bias 0.
    /// </para>
    /// <para>
    /// ResNet (v1.5: a bottleneck strides on its 3×3 conv; downsample is conv1×1 + BatchNorm) takes
    /// any input size, ending in GlobalAveragePool. VGG's AdaptiveAvgPool2d((7, 7)) is written as an
    /// AveragePool with kernel = stride = map/7, so VGG takes only input sizes whose feature map
    /// after the five max pools is 7 or a multiple of 7 per side (224 gives 7×7, where the pool is
    /// the identity; 448 gives 14×14); other sizes throw an <see cref="ArgumentException"/> naming
    /// the input size.
    /// </para>
    /// </remarks>
    /// <param name="name">A model name from <see cref="Names"/>.</param>
    /// <param name="options">Classes, width, input size and seed; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">
    /// The name is unknown (the message lists the known names), an option is out of range (the
    /// message names it), or the input size does not suit the model.
    /// </exception>
    public static ModelProto Build(string name, ZooOptions? options = null) => Create(name, options, withWeights: true);

    /// <summary>
    /// The initializers <see cref="Build"/> would give the same model (torchvision's
    /// <c>state_dict()</c> keys and shapes in its order, without <c>num_batches_tracked</c>),
    /// without allocating any weights: VGG16 lists its 138,357,544 parameters without the 553 MB.
    /// </summary>
    /// <param name="name">A model name from <see cref="Names"/>.</param>
    /// <param name="options">As for <see cref="Build"/>; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">As for <see cref="Build"/>.</exception>
    public static IReadOnlyList<ZooParameter> StateDict(string name, ZooOptions? options = null) =>
        Create(name, options, withWeights: false).Graph.Initializer
            .Select(t => new ZooParameter(t.Name, t.Dims.ToArray()))
            .ToList();

    private static ModelProto Create(string name, ZooOptions? options, bool withWeights)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.ToLowerInvariant();
        if (!Names.Contains(key))
        {
            throw new ArgumentException($"Unknown model '{name}'; known models: {string.Join(", ", Names)}.", nameof(name));
        }

        options ??= new ZooOptions();
        options.Validate();
        return key.StartsWith("vgg", StringComparison.Ordinal) ? Vgg.Build(key, options, withWeights) : ResNet.Build(key, options, withWeights);
    }
}

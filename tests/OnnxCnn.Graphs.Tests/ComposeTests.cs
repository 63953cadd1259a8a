using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary><see cref="GraphEdits.Compose"/>: a preprocessing graph in front of a network.</summary>
public class ComposeTests
{
    private const TensorProto.Types.DataType Float = TensorProto.Types.DataType.Float;

    /// <summary>Like ML.NET's ResNetPreprocess.onnx (opset 8): RGB → BGR by Split/Concat, minus a mean image.</summary>
    private static OnnxModel Preprocessing() => OnnxModel.Load(new ModelBuilder(opset: 8)
        .Input("OriginalInput", Float, 1, 3, 2, 2)
        .Initializer("MeanImage", Enumerable.Range(0, 12).Select(i => i * 10f).ToArray(), 1, 3, 2, 2)
        .Node("Split", ["OriginalInput"], ["R", "G", "B"], ModelBuilder.Int("axis", 1), ModelBuilder.Ints("split", 1, 1, 1))
        .Node("Concat", ["B", "G", "R"], ["BGR"], ModelBuilder.Int("axis", 1))
        .Node("Sub", ["BGR", "MeanImage"], ["Preprocessed"])
        .Output("Preprocessed", Float, 1, 3, 2, 2).ToBytes());

    /// <summary>A 1×1 conv whose names clash with the preprocessing's ("R", "Sub_2").</summary>
    private static OnnxModel Network() => OnnxModel.Load(new ModelBuilder(opset: 13)
        .Input("image", Float, 1, 3, 2, 2)
        .Initializer("R", [1f, 2f, 3f, -1f, 0.5f, 0.25f], 2, 3, 1, 1)
        .Node("Conv", ["image", "R"], ["features"], ModelBuilder.Ints("kernel_shape", 1, 1))
        .Node("Relu", ["features"], ["Sub_2"])
        .Output("Sub_2", Float, 1, 2, 2, 2).ToBytes());

    [Fact]
    public void Compose_PreprocessingThenNetwork_EqualsRunningThemInTurn()
    {
        using var x = Tensor<float>.Create(1, 3, 2, 2);
        var random = new Random(4);
        foreach (ref var v in x.Span)
        {
            v = random.Next(0, 256);
        }

        var composed = GraphEdits.Compose(Preprocessing(), Network());
        Assert.Equal(13, composed.Opset);
        Assert.Equal("OriginalInput", Assert.Single(composed.Graph.Input).Name);
        Assert.Equal("Sub_2", Assert.Single(composed.Graph.Output).Name);

        var (_, pre) = Fixtures.Run(Preprocessing(), x);
        using var between = Tensor<float>.FromSpan(pre, 1, 3, 2, 2);
        var (_, expected) = Fixtures.Run(Network(), between);
        var (shape, actual) = Fixtures.Run(composed, x);
        Assert.Equal([1, 2, 2, 2], shape);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Compose_ShapesDisagree_IsRefused()
    {
        var other = OnnxModel.Load(new ModelBuilder().Input("image", Float, 1, 3, 4, 4).Node("Relu", ["image"], ["y"]).Output("y", Float, 1, 3, 4, 4).ToBytes());
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.Compose(Preprocessing(), other));
        Assert.Equal("the first model's output 'Preprocessed' is [1,3,2,2] but input 'image' of the second is [1,3,4,4].", e.Message);
    }
}

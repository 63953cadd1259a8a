using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>AveragePool, Pad and grouped Conv backward rules against central finite differences.</summary>
public class PoolPadGroupedConvGradientTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    private static AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    /// <summary>
    /// x → Mul(per-position scale) → AveragePool → Sigmoid → GAP → Gemm: the scale's gradient at every
    /// position is x·dX of the pool, so checking all of it checks the pool's backward everywhere, borders included.
    /// </summary>
    [Theory]
    [InlineData(7, 3, 2, 1, 1, 0, 0)]
    [InlineData(7, 3, 2, 1, 1, 1, 0)]
    [InlineData(8, 3, 2, 1, 1, 0, 1)]
    [InlineData(8, 3, 2, 1, 1, 1, 1)]
    [InlineData(7, 2, 2, 0, 0, 0, 1)]
    [InlineData(8, 3, 3, 0, 0, 0, 0)]
    [InlineData(6, 2, 2, 0, 0, 0, 0)]
    [InlineData(7, 3, 2, 1, 0, 0, 1)]
    [InlineData(7, 3, 1, 0, 2, 1, 0)]
    public void Gradients_AveragePool_MatchFiniteDifferences(int size, long kernel, long stride, long padBegin, long padEnd, long countIncludePad, long ceilMode)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2, size, size)
            .Initializer("scale", Random(2 * size * size, 61, 1f), 1, 2, size, size)
            .Initializer("fc.w", Random(3 * 2, 62, 1f), 3, 2)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("AveragePool", ["s"], ["p"], Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride),
                Ints("pads", padBegin, padBegin, padEnd, padEnd), Int("count_include_pad", countIncludePad), Int("ceil_mode", ceilMode))
            .Node("Sigmoid", ["p"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node("GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        CheckAll(OnnxModel.Load(b.ToBytes()), size, ["scale", "fc.w"], every: 1, fractionOfLargest: 5e-3);
    }

    /// <summary>x → Mul(scale) → Pad → Conv → Sigmoid → GAP → Gemm, every scale position checked.</summary>
    [Theory]
    [InlineData("constant", new long[] { 0, 0, 1, 2, 0, 0, 2, 1 })]
    [InlineData("constant", new long[] { 0, 0, -1, 1, 0, 0, 1, -2 })]
    [InlineData("reflect", new long[] { 0, 0, 2, 1, 0, 0, 1, 2 })]
    [InlineData("edge", new long[] { 0, 0, 2, 1, 0, 0, 1, 2 })]
    public void Gradients_Pad_MatchFiniteDifferences(string mode, long[] pads)
    {
        const int size = 5;
        var b = new ModelBuilder()
            .Input("x", F, "N", 2, size, size)
            .Initializer("scale", Random(2 * size * size, 71, 1f), 1, 2, size, size)
            .Initializer("pads", pads, 8)
            .Initializer("value", [0.3f])
            .Initializer("conv.w", Random(3 * 2 * 3 * 3, 72, 0.6f), 3, 2, 3, 3)
            .Initializer("fc.w", Random(3 * 3, 73, 1f), 3, 3)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Pad", mode == "constant" ? ["s", "pads", "value"] : ["s", "pads"], ["p"], Str("mode", mode))
            .Node("Conv", ["p", "conv.w"], ["c"], Ints("strides", 1, 1))
            .Node("Sigmoid", ["c"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node("GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        CheckAll(OnnxModel.Load(b.ToBytes()), size, ["scale", "conv.w"], every: 1, fractionOfLargest: 5e-3);
    }

    [Fact]
    public void Pad_WrapMode_IsRefusedByName()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2, 4, 4)
            .Initializer("scale", Random(2 * 16, 74, 1f), 1, 2, 4, 4)
            .Initializer("pads", new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, 8)
            .Initializer("fc.w", Random(3 * 2, 75, 1f), 3, 2)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Pad", ["s", "pads"], ["p"], Str("mode", "wrap"))
            .Node("GlobalAveragePool", ["p"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        var e = Assert.Throws<InvalidOperationException>(() => TrainingCompiler.Compile(OnnxModel.Load(b.ToBytes()), new TrainingSpec { Trainable = ["*"] }));
        Assert.StartsWith("cannot train through node 'Pad_1' (Pad): Pad mode 'wrap' is not differentiated (constant, reflect and edge are).", e.Message);
    }

    /// <summary>Grouped (not depthwise) convolutions and a depthwise one with channel multiplier 2: every 3rd weight checked.</summary>
    [Theory]
    [InlineData(4, 6, 2, 9, 2, 1, 1)]
    [InlineData(4, 4, 2, 10, 3, 0, 1)]
    [InlineData(8, 8, 4, 8, 1, 2, 2)]
    [InlineData(8, 4, 4, 9, 2, 1, 2)]
    [InlineData(4, 8, 4, 7, 1, 1, 1)]
    [InlineData(4, 8, 4, 8, 2, 1, 1)]
    public void Gradients_GroupedConv_MatchFiniteDifferences(int channels, int filters, int groups, int size, long stride, long pad, long dilation)
    {
        var perGroup = channels / groups;
        var b = new ModelBuilder()
            .Input("x", F, "N", channels, size, size)
            .Initializer("scale", Random(channels, 84, 1f), 1, channels, 1, 1)
            .Initializer("conv.w", Random(filters * perGroup * 9, 81, 0.6f), filters, perGroup, 3, 3)
            .Initializer("conv.b", Random(filters, 82, 0.1f), filters)
            .Initializer("fc.w", Random(3 * filters, 83, 0.8f), 3, filters)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Conv", ["s", "conv.w", "conv.b"], ["c"], Int("group", groups), Ints("strides", stride, stride),
                Ints("pads", pad, pad, pad, pad), Ints("dilations", dilation, dilation))
            .Node("Sigmoid", ["c"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node("GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        CheckAll(OnnxModel.Load(b.ToBytes()), size, ["conv.w", "conv.b", "scale"], inputShape: [3, channels, size, size], every: 3, fractionOfLargest: 5e-3);
    }
}

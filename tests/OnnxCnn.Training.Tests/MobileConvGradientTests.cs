using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// The depthwise and pointwise Conv rules (BackwardRules.Depthwise.cs) against central finite differences: a
/// per-position scale in front of the conv makes its gradient x·dX, so checking every position checks the input
/// gradient everywhere, borders and strides included; every weight is checked too.
/// </summary>
public class MobileConvGradientTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    private static OnnxModel ScaledConv(int channels, int filters, int height, int width, long[] kernel, long group, long[] strides, long[] pads, long[] dilations)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", channels, height, width)
            .Initializer("scale", Random(channels * height * width, 91, 1f), 1, channels, height, width)
            .Initializer("conv.w", Random(filters * (channels / (int)group) * (int)(kernel[0] * kernel[1]), 92, 0.6f), filters, channels / group, kernel[0], kernel[1])
            .Initializer("conv.b", Random(filters, 93, 0.1f), filters)
            .Initializer("fc.w", Random(3 * filters, 94, 0.8f), 3, filters)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Conv", ["s", "conv.w", "conv.b"], ["c"], Int("group", group), Ints("kernel_shape", kernel), Ints("strides", strides), Ints("pads", pads), Ints("dilations", dilations))
            .Node("Sigmoid", ["c"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node("GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        return OnnxModel.Load(b.ToBytes());
    }

    public static TheoryData<int, int, long, long, long, long, long[], int> DepthwiseCases() => new()
    {
        // height, width, kernel, row stride, column stride, dilation, pads (top, left, bottom, right), channels
        { 2, 7, 5, 1, 1, 1, [2, 2, 2, 2], 3 },   // PaddleOCR's last blocks: a 5×5 kernel on a 2-row map (two kernel rows read only padding)
        { 2, 7, 5, 1, 1, 1, [1, 2, 3, 2], 3 },   // the same with the kernel rows that read only padding at the end
        { 3, 6, 5, 2, 1, 1, [2, 2, 2, 2], 3 },   // stride (2, 1) on an odd height
        { 6, 5, 3, 2, 1, 1, [1, 1, 1, 1], 4 },   // stride (2, 1) on an even height
        { 5, 6, 3, 1, 2, 1, [1, 1, 1, 1], 2 },   // column stride
        { 7, 7, 3, 2, 2, 2, [2, 2, 2, 2], 2 },   // stride 2 and dilation 2
        { 6, 7, 3, 1, 1, 1, [1, 0, 2, 1], 3 },   // asymmetric pads
        { 5, 5, 3, 1, 1, 1, [0, 0, 0, 0], 2 },   // no padding
        { 4, 5, 1, 1, 1, 1, [1, 1, 1, 1], 2 },   // a pad beyond the kernel's reach: the ConvTranspose fallback
    };

    [Theory]
    [MemberData(nameof(DepthwiseCases))]
    public void Gradients_DepthwiseConv_MatchFiniteDifferencesEverywhere(int height, int width, long kernel, long rowStride, long columnStride, long dilation, long[] pads, int channels)
    {
        var model = ScaledConv(channels, channels, height, width, [kernel, kernel], channels, [rowStride, columnStride], pads, [dilation, dilation]);
        // The floor is float32 finite-difference noise (loss rounding ~1e-7 over a 2e-2 step): a 1×1 kernel padded
        // beyond its reach gives border outputs that depend on the bias alone and gradients near 1e-4.
        CheckAll(model, 0, ["conv.w", "conv.b", "scale"], inputShape: [3, channels, height, width], every: 1, fractionOfLargest: 5e-3, floor: 1e-5);
    }

    /// <summary>
    /// The same shapes with four times the channels, counts ORT's NCHWc kernels take (NchwcConvs: multiples of 4;
    /// 8 and 16 fill whole blocks of 8, 12 is padded to the block). Their forward, dX and dW run as NCHWc depthwise
    /// Convs, dW with dY as the kernel over the images stacked along the rows.
    /// </summary>
    [Theory]
    [MemberData(nameof(DepthwiseCases))]
    public void Gradients_DepthwiseConvOnNchwcKernels_MatchFiniteDifferencesEverywhere(int height, int width, long kernel, long rowStride, long columnStride, long dilation, long[] pads, int channels)
    {
        var wide = channels * 4;
        var model = ScaledConv(wide, wide, height, width, [kernel, kernel], wide, [rowStride, columnStride], pads, [dilation, dilation]);
        // Four times the channels, four times the loss's rounding in a finite difference: the floor scales with it
        // (it matters only for the 1×1 kernel padded beyond its reach, whose border gradients are near 1e-6).
        CheckAll(model, 0, ["conv.w", "conv.b", "scale"], inputShape: [3, wide, height, width], every: 1, fractionOfLargest: 5e-3, floor: 4e-5);
    }

    /// <summary>
    /// Ungrouped stride-1 Convs with channel counts in whole NCHWc blocks (multiples of 16, so of 8 too): dX is a Conv
    /// with the rotated kernel on NCHWc kernels, its weight reordered to OIHWBiBo in the graph (NchwcConvs).
    /// </summary>
    [Theory]
    [InlineData(16, 32, 5, 6, 3, 1, new long[] { 1, 1, 1, 1 })]
    [InlineData(32, 16, 6, 5, 3, 2, new long[] { 2, 1, 2, 2 })]
    [InlineData(16, 16, 4, 4, 5, 1, new long[] { 2, 2, 1, 2 })]
    public void Gradients_DenseConvOnNchwcKernels_MatchFiniteDifferencesEverywhere(int channels, int filters, int height, int width, long kernel, long dilation, long[] pads)
    {
        var model = ScaledConv(channels, filters, height, width, [kernel, kernel], 1, [1, 1], pads, [dilation, dilation]);
        CheckAll(model, 0, ["scale"], inputShape: [3, channels, height, width], every: 1, fractionOfLargest: 5e-3, floor: 4e-5);
    }

    [Theory]
    [InlineData(4, 6, 3, 5)]
    [InlineData(6, 2, 1, 1)]
    public void Gradients_PointwiseConv_MatchFiniteDifferencesEverywhere(int channels, int filters, int height, int width)
    {
        var model = ScaledConv(channels, filters, height, width, [1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]);
        CheckAll(model, 0, ["conv.w", "conv.b", "scale"], inputShape: [3, channels, height, width], every: 1, fractionOfLargest: 5e-3);
    }

    [Fact]
    public void Compile_DepthwiseAndPointwiseConvs_UseTheirOwnRules()
    {
        var depthwise = TrainingCompiler.Compile(ScaledConv(3, 3, 2, 7, [5, 5], 3, [1, 1], [2, 2, 2, 2], [1, 1]), new TrainingSpec { Trainable = ["*"] }).Step.Graph.Node;
        Assert.DoesNotContain(depthwise, n => n.OpType == "ConvTranspose");
        Assert.Contains(depthwise, n => n.Name.Contains("dconv_x_depthwise", StringComparison.Ordinal));

        // Of the 25 taps, the 10 of kernel rows 0 and 4 read only padding on a 2-row map: 15 multiplies; kernel rows 1
        // and 3 see one output row each (one dY row slice per kernel row), row 2 all of dY.
        Assert.Equal(15, depthwise.Count(n => n.Name.Contains("/dwd_mul/", StringComparison.Ordinal)));
        Assert.Equal(2, depthwise.Count(n => n.Name.Contains("/dwd_dyrows/", StringComparison.Ordinal)));

        var pointwise = TrainingCompiler.Compile(ScaledConv(4, 6, 3, 5, [1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]), new TrainingSpec { Trainable = ["*"] }).Step.Graph.Node;
        Assert.DoesNotContain(pointwise, n => n.OpType is "ConvTranspose" or "Gemm" && n.Name.Contains("conv", StringComparison.Ordinal));
        Assert.Contains(pointwise, n => n.Name.Contains("dconv_w_pointwise", StringComparison.Ordinal));
    }
}

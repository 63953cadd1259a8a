using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// The ungrouped Conv's gradient formulations against central finite differences: dX as a Conv with rotated kernels
/// (stride 1; any kernel shape, asymmetric pads, dilation), the ConvTranspose fallback (strides, pads beyond d·(k−1)),
/// and dW as one im2col Gemm (small feature maps) or one Gemm per kernel tap (large ones).
/// </summary>
public class ConvFormulationGradientTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    /// <summary>x → Mul(per-position scale) → Conv → Sigmoid → square → GAP → Gemm: the scale's gradient at every position is x·dX of the Conv.</summary>
    private static OnnxModel Model(int channels, int size, long kh, long kw, long[] pads, long dilation, long stride)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", channels, size, size)
            .Initializer("scale", Random(channels * size * size, 91, 1f), 1, channels, size, size)
            .Initializer("conv.w", Random(4 * channels * (int)(kh * kw), 92, 0.6f), 4, channels, kh, kw)
            .Initializer("conv.b", Random(4, 93, 0.1f), 4)
            .Initializer("fc.w", Random(3 * 4, 94, 0.8f), 3, 4)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Conv", ["s", "conv.w", "conv.b"], ["c"], Ints("pads", pads), Ints("dilations", dilation, dilation), Ints("strides", stride, stride))
            .Node("Sigmoid", ["c"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node("GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        return OnnxModel.Load(b.ToBytes());
    }

    private static IEnumerable<string> OpsOf(OnnxModel model) =>
        TrainingCompiler.Compile(model, new TrainingSpec { Trainable = ["*"] }).Step.Graph.Node.Select(n => n.OpType);

    [Theory]
    [InlineData(3, 3, new long[] { 1, 1, 1, 1 }, 1, 1, "Conv")]
    [InlineData(3, 2, new long[] { 2, 0, 1, 1 }, 1, 1, "Conv")]
    [InlineData(3, 3, new long[] { 2, 2, 2, 2 }, 2, 1, "Conv")]
    [InlineData(2, 2, new long[] { 1, 1, 0, 0 }, 1, 1, "Conv")]
    [InlineData(1, 1, new long[] { 0, 0, 0, 0 }, 1, 1, "Conv")]
    [InlineData(1, 1, new long[] { 1, 1, 1, 1 }, 1, 1, "ConvTranspose")]
    [InlineData(3, 3, new long[] { 1, 1, 1, 1 }, 1, 2, "ConvTranspose")]
    public void Gradients_ConvDataGradient_MatchFiniteDifferences(long kh, long kw, long[] pads, long dilation, long stride, string dataGradientOp)
    {
        const int size = 7;
        var model = Model(2, size, kh, kw, pads, dilation, stride);
        // The forward has one Conv; the formulation of dX is the other.
        Assert.Contains(dataGradientOp, OpsOf(model).Where((op, i) => op is "Conv" or "ConvTranspose").Skip(1));
        // The floor is the finite difference's own float32 noise (≈ 1e-7 of the loss over 2·eps = 0.02), a few times over.
        CheckAll(model, size, ["scale", "conv.w", "conv.b"], inputShape: [3, 2, size, size], every: 1, fractionOfLargest: 5e-3, floor: 3e-5);
    }

    /// <summary>
    /// 3 channels × 3×3 taps × 144² positions is over the im2col bound (512 Ki floats a sample): dW takes one Gemm per
    /// tap; at 12² it is one Gemm over the stacked columns. Both against finite differences, every 2nd weight.
    /// </summary>
    [Theory]
    [InlineData(12, true)]
    [InlineData(144, false)]
    public void Gradients_ConvWeightGradient_ColumnsOrTapsByFeatureMapSize_MatchFiniteDifferences(int size, bool columns)
    {
        var model = Model(3, size, 3, 3, [1, 1, 1, 1], 1, 1);
        var gemms = OpsOf(model).Count(op => op == "Gemm");
        // The head's forward and its two gradients are Gemms too; dW adds one Gemm, or one per tap.
        Assert.Equal(columns ? 4 : 3 + 9, gemms);
        CheckAll(model, size, ["conv.w"], inputShape: [2, 3, size, size], every: 2, fractionOfLargest: 5e-3);
    }
}

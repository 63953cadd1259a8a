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

    /// <summary>
    /// x → Mul(per-position scale) → Conv → Sigmoid → square → GAP (or, with <paramref name="flatten"/>, Flatten, so that
    /// no position's gradient is averaged below the finite difference's noise) → Gemm: the scale's gradient at every
    /// position is x·dX of the Conv.
    /// </summary>
    private static OnnxModel Model(int channels, int size, long kh, long kw, long[] pads, long dilation, long stride, bool flatten = false)
    {
        var outputSize = ((size + pads[0] + pads[2] - (dilation * (kh - 1)) - 1) / stride) + 1;
        var features = flatten ? 4 * (int)(outputSize * (((size + pads[1] + pads[3] - (dilation * (kw - 1)) - 1) / stride) + 1)) : 4;
        var b = new ModelBuilder()
            .Input("x", F, "N", channels, size, size)
            .Initializer("scale", Random(channels * size * size, 91, 1f), 1, channels, size, size)
            .Initializer("conv.w", Random(4 * channels * (int)(kh * kw), 92, 0.6f), 4, channels, kh, kw)
            .Initializer("conv.b", Random(4, 93, 0.1f), 4)
            .Initializer("fc.w", Random(3 * features, 94, 0.8f), 3, features)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Conv", ["s", "conv.w", "conv.b"], ["c"], Ints("pads", pads), Ints("dilations", dilation, dilation), Ints("strides", stride, stride))
            .Node("Sigmoid", ["c"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node(flatten ? "Identity" : "GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        return OnnxModel.Load(b.ToBytes());
    }

    private static List<NodeProto> StepNodes(OnnxModel model) =>
        [.. TrainingCompiler.Compile(model, new TrainingSpec { Trainable = ["*"] }).Step.Graph.Node];

    /// <summary>How the step graph computes the Conv's dX: "columns" (one MatMul over dY's im2col), "pointwise" (the 1×1 rule's
    /// Conv with Wᵀ), "Conv" or "ConvTranspose".</summary>
    private static string DataGradientForm(List<NodeProto> nodes) =>
        nodes.Any(n => n.Name.StartsWith("/train/dx_gemm/", StringComparison.Ordinal)) ? "columns"
        : nodes.Any(n => n.Name.StartsWith("/train/dconv_x_pointwise", StringComparison.Ordinal)) ? "pointwise"
        : nodes.Any(n => n.OpType == "ConvTranspose") ? "ConvTranspose"
        : nodes.Count(n => n.OpType == "Conv") == 2 ? "Conv"
        : "none";

    [Theory]
    [InlineData(3, 3, new long[] { 1, 1, 1, 1 }, 1, 1, "columns")]
    [InlineData(3, 2, new long[] { 2, 0, 1, 1 }, 1, 1, "columns")]
    [InlineData(3, 3, new long[] { 2, 2, 2, 2 }, 2, 1, "columns")]
    [InlineData(2, 2, new long[] { 1, 1, 0, 0 }, 1, 1, "columns")]
    [InlineData(1, 1, new long[] { 0, 0, 0, 0 }, 1, 1, "pointwise")]
    [InlineData(1, 1, new long[] { 1, 1, 1, 1 }, 1, 1, "ConvTranspose")]
    [InlineData(3, 3, new long[] { 1, 1, 1, 1 }, 1, 2, "ConvTranspose")]
    public void Gradients_ConvDataGradient_MatchFiniteDifferences(long kh, long kw, long[] pads, long dilation, long stride, string form)
    {
        const int size = 7;
        var model = Model(2, size, kh, kw, pads, dilation, stride);
        Assert.Equal(form, DataGradientForm(StepNodes(model)));
        // The floor is the finite difference's own float32 noise (≈ 1e-7 of the loss over 2·eps = 0.02), a few times over.
        CheckAll(model, size, ["scale", "conv.w", "conv.b"], inputShape: [3, 2, size, size], every: 1, fractionOfLargest: 5e-3, floor: 3e-5);
    }

    /// <summary>
    /// 3 channels × 3×3 taps × 144² positions is over the im2col bound (512 Ki floats a sample): dW takes one Gemm per
    /// tap and dX (4 filters × 9 × 144²) a Conv; at 12² both are one Gemm over stacked columns. Against finite
    /// differences: every 2nd weight, and the input scale (through dX) at every 389th position (a Flatten head).
    /// </summary>
    [Theory]
    [InlineData(12, true)]
    [InlineData(144, false)]
    public void Gradients_ConvGradients_ColumnsOrTapsByFeatureMapSize_MatchFiniteDifferences(int size, bool columns)
    {
        var model = Model(3, size, 3, 3, [1, 1, 1, 1], 1, 1, flatten: true);
        var nodes = StepNodes(model);
        // The head's forward and its two gradients are Gemms too; dW adds one Gemm, or one per tap.
        Assert.Equal(columns ? 4 : 3 + 9, nodes.Count(n => n.OpType == "Gemm"));
        Assert.Equal(columns ? "columns" : "Conv", DataGradientForm(nodes));
        CheckAll(model, size, ["conv.w"], inputShape: [2, 3, size, size], every: 2, fractionOfLargest: 5e-3);
        CheckAll(model, size, ["scale"], inputShape: [2, 3, size, size], every: 389, fractionOfLargest: 5e-3, floor: 3e-5);
    }

    /// <summary>
    /// The step graph's forward Conv rewritten to one Gemm over X's columns (strided, dilated, asymmetric pads, bias)
    /// gives the eval graph's logits — the eval graph keeps ORT's Conv — before the update changes anything.
    /// </summary>
    [Theory]
    [InlineData(3, 3, new long[] { 1, 1, 1, 1 }, 1, 1)]
    [InlineData(3, 2, new long[] { 2, 0, 1, 1 }, 1, 2)]
    [InlineData(3, 3, new long[] { 2, 2, 2, 2 }, 2, 1)]
    public void ColumnsForward_LogitsEqualEvalGraphsConv(long kh, long kw, long[] pads, long dilation, long stride)
    {
        const int size = 9;
        var model = Model(2, size, kh, kw, pads, dilation, stride);
        var nodes = StepNodes(model);
        Assert.DoesNotContain(nodes, n => n.OpType == "Conv" && n.Input.Contains("conv.w"));
        Assert.Contains(nodes, n => n.Name.StartsWith("/train/fw_gemm/", StringComparison.Ordinal));
        using var session = TrainingSession.Create(model, new TrainingSpec { Trainable = ["*"] });
        using var x = OnnxCnn.Runtime.Tensor<float>.FromSpan(Random(3 * 2 * size * size, 95), 3, 2, size, size);
        using var y = OnnxCnn.Runtime.Tensor<long>.FromSpan([0L, 1, 2], 3);
        var evaluated = session.EvaluateOnFeatures(x, y);
        var stepped = session.Step(x, y, 0.1f);
        Assert.Equal(evaluated.Loss, stepped.Loss, 5);
        var expected = evaluated.Logits.ToArray();
        var actual = stepped.Logits.ToArray();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"logit {i}: eval {expected[i]}, step {actual[i]}");
        }
    }
}

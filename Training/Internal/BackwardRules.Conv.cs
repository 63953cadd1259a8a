using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Backward rules of Conv: input, weight (plain, grouped, depthwise) and bias gradients.</summary>
internal sealed partial class BackwardRules
{
    private IEnumerable<(int, string)> Conv(NodeProto node, string dY, Func<int, bool> wanted)
    {
        var x = shapes[node.Input[0]];
        var w = shapes[node.Input[1]];
        var y = shapes[node.Output[0]];
        if (x.Dims is not { Length: 4 } || w.Dims is not { Length: 4 } || y.Dims is not { Length: 4 } || !w.IsFullyKnown
            || !x.Dims[2].IsKnown || !x.Dims[3].IsKnown || !y.Dims[2].IsKnown || !y.Dims[3].IsKnown)
        {
            throw Unsupported(node, "Conv gradients need 2-D convolutions with known spatial sizes");
        }

        if (Attr.String(node, "auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
        {
            throw Unsupported(node, "Conv with auto_pad SAME is not differentiated yet; give explicit pads");
        }

        var group = Attr.Int(node, "group", 1);
        var k = new[] { w.Dims[2].Value, w.Dims[3].Value };
        var strides = Ints(node, "strides", 1);
        var dilations = Ints(node, "dilations", 1);
        var pads = Attr.Ints(node, "pads") is { Length: 4 } p ? p : new long[4];
        var rows = new ConvAxis(x.Dims[2].Value, y.Dims[2].Value, k[0], strides[0], dilations[0], pads[0], pads[2]);
        var columns = new ConvAxis(x.Dims[3].Value, y.Dims[3].Value, k[1], strides[1], dilations[1], pads[1], pads[3]);

        // Depthwise (one filter per channel) and pointwise (1×1, stride 1, unpadded) convolutions have rules of their own
        // (BackwardRules.Depthwise.cs); other stride-1 ungrouped convolutions take dX as a Conv with rotated kernels.
        var depthwise = group > 1 && w.Dims[1].Value == 1 && w.Dims[0].Value == group;
        var pointwise = group == 1 && k.All(d => d == 1) && strides.All(s => s == 1) && pads.All(v => v == 0);
        var special = !wanted(0) ? null
            : pointwise ? PointwiseInputGradient(node, dY)
            : depthwise ? DepthwiseInputGradient(node, dY, group, rows, columns)
            : group == 1 && strides.All(v => v == 1) ? DataGradientAsConv(node, dY, k, dilations, pads)
            : null;
        if (special is not null)
        {
            yield return (0, special);
        }
        else if (wanted(0))
        {
            // Strided (and grouped) convolutions: dX = ConvTranspose(dY, W) with output_padding = H − ((Ho−1)s − 2p + d(k−1) + 1).
            var outputPadding = new long[2];
            for (var i = 0; i < 2; i++)
            {
                var h = x.Dims[2 + i].Value;
                var ho = y.Dims[2 + i].Value;
                outputPadding[i] = h - (((ho - 1) * strides[i]) - pads[i] - pads[i + 2] + (dilations[i] * (k[i] - 1)) + 1);
            }

            yield return (0, e.Node("ConvTranspose", [dY, node.Input[1]], "dconv_x",
                GraphEmitter.Ints("strides", strides), GraphEmitter.Ints("dilations", dilations), GraphEmitter.Ints("pads", pads),
                GraphEmitter.Ints("output_padding", outputPadding), GraphEmitter.Int("group", group), GraphEmitter.Ints("kernel_shape", k)));
        }

        if (wanted(1))
        {
            // Every other grouping (including channel multipliers) goes through the batched per-group taps.
            yield return (1, pointwise ? PointwiseWeightGradient(node, dY, w.Dims[0].Value, w.Dims[1].Value)
                : group == 1
                ? w.Dims[1].Value * k[0] * k[1] * y.Dims[2].Value * y.Dims[3].Value <= MaxColumnsPerSample
                    ? WeightGradientByColumns(node, dY, w.Dims[1].Value, k, strides, dilations, pads, y.Dims[2].Value, y.Dims[3].Value)
                    : WeightGradientByTaps(node, dY, k, strides, dilations, pads, y.Dims[2].Value, y.Dims[3].Value)
                : depthwise
                    ? DepthwiseWeightGradientAsConv(node, dY, group, rows, columns) ?? DepthwiseWeightGradient(node, dY, group, rows, columns)
                    : GroupedWeightGradient(node, dY, group, w.Dims[0].Value, w.Dims[1].Value, k, strides, dilations, pads, y.Dims[2].Value, y.Dims[3].Value));
        }

        if (node.Input.Count > 2 && node.Input[2].Length > 0 && wanted(2))
        {
            yield return (2, ChannelSum(dY, "dconv_b"));
        }
    }

    /// <summary>The im2col matrices of X built by forward Convs rewritten to one Gemm, by the Conv's output: dW reuses them.</summary>
    private readonly Dictionary<string, string> forwardColumns = new(StringComparer.Ordinal);

    /// <summary>
    /// Rewrites an ungrouped forward Conv whose weight trains into one Gemm over X's im2col matrix (when that matrix is
    /// within <see cref="MaxColumnsPerSample"/>), which dW then reuses. ORT's Conv with a weight that is a graph input
    /// cannot use its NCHWc kernels and runs a Gemm per image with Ho·Wo columns (49 at ResNet's layer4). The node
    /// object stays in the caller's order list for the backward pass; its replacement produces the same output.
    /// </summary>
    public void UseColumns(NodeProto node)
    {
        var x = shapes[node.Input[0]];
        var w = shapes[node.Input[1]];
        var y = shapes[node.Output[0]];
        if (Attr.Int(node, "group", 1) != 1 || Attr.String(node, "auto_pad", "NOTSET") is not ("NOTSET" or "VALID")
            || x.Dims is not { Length: 4 } || w.Dims is not { Length: 4 } || !w.IsFullyKnown || y.Dims is not { Length: 4 } || !y.Dims[2].IsKnown || !y.Dims[3].IsKnown)
        {
            return;
        }

        var channels = w.Dims[1].Value;
        var k = new[] { w.Dims[2].Value, w.Dims[3].Value };
        var (ho, wo) = (y.Dims[2].Value, y.Dims[3].Value);
        if (channels * k[0] * k[1] * ho * wo > MaxColumnsPerSample)
        {
            return;
        }

        var pads = Attr.Ints(node, "pads") is { Length: 4 } p ? p : new long[4];
        var index = e.Graph.Node.IndexOf(node);
        var before = e.Graph.Node.Count;
        var columns = Columns(TapSlices(ChannelMajorPadded(node.Input[0], pads, "fw_x"), k, Ints(node, "strides", 1), Ints(node, "dilations", 1), ho, wo, "fw"), channels, "fw");
        var product = e.Node("MatMul", [e.Node("Reshape", [node.Input[1], e.Longs("fw_w2", 0, -1)], "fw_w2d"), columns], "fw_gemm");
        var output = e.Node("Transpose", [e.Node("Reshape", [product, e.Longs("fw_cnhw", 0, -1, ho, wo)], "fw_cnhw")], "fw_y", GraphEmitter.Ints("perm", 1, 0, 2, 3));
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            output = e.Node("Add", [output, e.Node("Reshape", [node.Input[2], e.Longs("fw_b4", 1, -1, 1, 1)], "fw_b4d")], "fw_yb");
        }

        e.ReplaceNode(node, index, before, output);
        forwardColumns[node.Output[0]] = columns;
    }

    /// <summary>
    /// The largest im2col matrix per sample (floats: C·kh·kw·Ho·Wo) for which dW is one Gemm over it rather than one Gemm
    /// per kernel tap, and dX one Gemm over dY's (M·kh·kw·H·W) rather than a Conv: 2 MB, which takes in ResNet's layer3
    /// and layer4 at 224² (1.8 and 0.9 MB). Measured at layer4's shape (512→512, 3×3, 7×7, batch 32, 2 cores,
    /// interleaved, median): the step 0.83× of the per-tap form's. The matrix is kh·kw times its source, so larger
    /// feature maps keep the per-tap Gemms (their slices are freed tap by tap) and the Conv.
    /// </summary>
    private const long MaxColumnsPerSample = 512 * 1024;

    /// <summary>
    /// dX of a stride-1, ungrouped Conv as a correlation of dY with the weight's channels swapped and kernels rotated,
    /// padded by d·(k−1) − p on each side (null when a pad exceeds d·(k−1)): a Conv where a CPU session runs it on
    /// ORT's NCHWc kernels (<see cref="NchwcConvs"/>; ResNet-18 layer4 + head, batch 32, overlapped, 3 interleaved
    /// pairs: efficiency 0.91–0.92 vs 0.87–0.88 with the Gemm, 30.1–30.8 vs 28.6–29.1 images/s), else one Gemm over
    /// dY's im2col matrix within <see cref="MaxColumnsPerSample"/>, a Conv beyond it. Measured on ResNet-18 layer4 (batch 32,
    /// 2 cores, interleaved, median): the step 0.81× of the ConvTranspose form's, whose CPU kernel runs a Gemm per image
    /// into columns and then col2im.
    /// </summary>
    private string? DataGradientAsConv(NodeProto node, string dY, long[] k, long[] dilations, long[] pads)
    {
        var flippedPads = new long[4];
        for (var i = 0; i < 2; i++)
        {
            flippedPads[i] = (dilations[i] * (k[i] - 1)) - pads[i];
            flippedPads[i + 2] = (dilations[i] * (k[i] - 1)) - pads[i + 2];
        }

        if (flippedPads.Any(p => p < 0))
        {
            return null;
        }

        var flipped = SwappedFlippedKernel(node.Input[1], k);
        var filters = shapes[node.Input[1]].Dims![0].Value;
        var (h, w) = (shapes[node.Input[0]].Dims![2].Value, shapes[node.Input[0]].Dims![3].Value);
        var channels = shapes[node.Input[0]].Dims![1].Value;
        if (filters * k[0] * k[1] * h * w <= MaxColumnsPerSample && !NchwcConvs.TakesDense(filters, channels, k[0] * k[1]))
        {
            // One Gemm, the rotated kernels [C, M·kh·kw] times the im2col matrix of dY padded by the flipped pads: ORT's
            // Conv with a weight that is not a constant runs a Gemm per image (N = Ho·Wo, 49 columns at layer4) where this
            // is one Gemm over N·H·W columns. Measured in the ResNet-18 layer4 step (batch 32, 2 shared cores, three
            // interleaved A/B runs of 9–11 rounds): 0.95, 0.98, 0.97× the Conv form's step time.
            var columns = Columns(TapSlices(ChannelMajorPadded(dY, flippedPads, "dx_dy"), k, [1, 1], dilations, h, w, "dx"), filters, "dx");
            var kernel = e.Node("Reshape", [flipped, e.Longs("dx_w2", 0, -1)], "dx_w2d");
            var channelMajor = e.Node("Reshape", [e.Node("MatMul", [kernel, columns], "dx_gemm"), e.Longs("dx_cnhw", 0, -1, h, w)], "dx_cnhw");
            return e.Node("Transpose", [channelMajor], "dconv_x", GraphEmitter.Ints("perm", 1, 0, 2, 3));
        }

        return e.Node("Conv", [dY, flipped], "dconv_x", GraphEmitter.Ints("pads", flippedPads), GraphEmitter.Ints("dilations", dilations), GraphEmitter.Ints("kernel_shape", k));
    }

    /// <summary>
    /// W [M, C, kh, kw] as [C, M, kh, kw] with each kernel rotated by 180°. Reversing both spatial axes reverses the
    /// flattened kh·kw index, done as a MatMul by the reversal permutation (exact: every output is one weight times 1
    /// plus zeros) because a negative-step Slice over the two innermost axes copies element by element.
    /// </summary>
    private string SwappedFlippedKernel(string w, long[] k)
    {
        var taps = (int)(k[0] * k[1]);
        string rotated;
        if (taps == 1)
        {
            rotated = w;
        }
        else
        {
            var reversal = new float[taps * taps];
            for (var t = 0; t < taps; t++)
            {
                reversal[(t * taps) + (taps - 1 - t)] = 1f;
            }

            var flat = e.Node("Reshape", [w, e.Longs("dx_wflat", 0, 0, taps)], "dx_wflat");
            var reversed = e.Node("MatMul", [flat, e.Floats("dx_reverse", reversal, taps, taps)], "dx_wrev");
            rotated = e.Node("Reshape", [reversed, e.Longs("dx_wshape", 0, 0, k[0], k[1])], "dx_wrot");
        }

        return e.Node("Transpose", [rotated], "dx_wt", GraphEmitter.Ints("perm", 1, 0, 2, 3));
    }

    /// <summary>A NCHW tensor as C×N×H×W, zero-padded on its spatial axes by [top, left, bottom, right] (no Pad when all are 0).</summary>
    private string ChannelMajorPadded(string nchw, long[] pads, string hint)
    {
        var transposed = e.Node("Transpose", [nchw], hint + "_t", GraphEmitter.Ints("perm", 1, 0, 2, 3));
        return pads.Any(p => p != 0)
            ? e.Node("Pad", [transposed, e.Longs(hint + "_pads", 0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3])], hint + "_pad")
            : transposed;
    }

    /// <summary>Per kernel tap (row-major), the strided window of a padded C×N×H×W tensor that the tap multiplies: C×N×Ho×Wo each.</summary>
    private List<string> TapSlices(string padded, long[] k, long[] strides, long[] dilations, long ho, long wo, string hint)
    {
        var slices = new List<string>();
        for (var i = 0; i < k[0]; i++)
        {
            for (var j = 0; j < k[1]; j++)
            {
                var top = i * dilations[0];
                var left = j * dilations[1];
                slices.Add(e.Node("Slice", [padded, e.Longs(hint + "_s", top, left), e.Longs(hint + "_e", top + ((ho - 1) * strides[0]) + 1, left + ((wo - 1) * strides[1]) + 1),
                    e.Longs(hint + "_axes", 2, 3), e.Longs(hint + "_steps", strides[0], strides[1])], hint + "_tap"));
            }
        }

        return slices;
    }

    /// <summary>The taps' slices stacked into the im2col matrix [C·kh·kw, N·Ho·Wo], rows in (channel, tap) order.</summary>
    private string Columns(List<string> slices, long channels, string hint)
    {
        var column = e.Longs(hint + "_col1", 0, 1, -1);
        var rows = slices.Select(slice => e.Node("Reshape", [slice, column], hint + "_x3d")).ToList();
        var stacked = rows.Count == 1 ? rows[0] : e.Node("Concat", rows, hint + "_im2col", GraphEmitter.Int("axis", 1));
        return e.Node("Reshape", [stacked, e.Longs(hint + "_col2", channels * slices.Count, -1)], hint + "_cols");
    }

    /// <summary>
    /// The operands of dW for an ungrouped Conv: dY as M×(N·Ho·Wo), and per kernel tap the strided slice of X
    /// (transposed to C×N×H×W and padded once) that the tap multiplied.
    /// </summary>
    private (string DY2, List<string> Slices) WeightGradientOperands(NodeProto node, string dY, long[] k, long[] strides, long[] dilations, long[] pads, long ho, long wo)
    {
        var padded = ChannelMajorPadded(node.Input[0], pads, "dw_x");
        var dy2 = e.Node("Reshape", [e.Node("Transpose", [dY], "dw_dyt", GraphEmitter.Ints("perm", 1, 0, 2, 3)), e.Longs("dw_dy2", 0, -1)], "dw_dy2d");
        return (dy2, TapSlices(padded, k, strides, dilations, ho, wo, "dw"));
    }

    /// <summary>
    /// dW by taps (TRAINING-NOTES formulation b): each tap's slice (C×N·Ho·Wo) times dY (M×N·Ho·Wo) gives that tap's
    /// M×C slice of the gradient. For feature maps too large for <see cref="WeightGradientByColumns"/>.
    /// </summary>
    private string WeightGradientByTaps(NodeProto node, string dY, long[] k, long[] strides, long[] dilations, long[] pads, long ho, long wo)
    {
        var (dy2, slices) = WeightGradientOperands(node, dY, k, strides, dilations, pads, ho, wo);
        var flat = e.Longs("dw_flat", 0, -1);
        var taps = slices.Select(slice => e.Node("Unsqueeze",
            [e.Node("Gemm", [dy2, e.Node("Reshape", [slice, flat], "dw_x2d")], "dw_gemm", GraphEmitter.Int("transB", 1)), e.Longs("dw_un", 2)], "dw_tapw")).ToList();
        var stacked = taps.Count == 1 ? taps[0] : e.Node("Concat", taps, "dw_concat", GraphEmitter.Int("axis", 2));
        return e.Node("Reshape", [stacked, e.Longs("dw_shape", 0, 0, k[0], k[1])], "dconv_w");
    }

    /// <summary>
    /// dW as one Gemm: the taps' slices stacked into the im2col matrix [C·kh·kw, N·Ho·Wo] (rows in the weight's
    /// (c, i, j) order), and dY (M×N·Ho·Wo) times its transpose is the gradient [M, C·kh·kw].
    /// </summary>
    private string WeightGradientByColumns(NodeProto node, string dY, long channels, long[] k, long[] strides, long[] dilations, long[] pads, long ho, long wo)
    {
        string dy2, matrix;
        if (forwardColumns.TryGetValue(node.Output[0], out var built))
        {
            dy2 = e.Node("Reshape", [e.Node("Transpose", [dY], "dw_dyt", GraphEmitter.Ints("perm", 1, 0, 2, 3)), e.Longs("dw_dy2", 0, -1)], "dw_dy2d");
            matrix = built;
        }
        else
        {
            (dy2, var slices) = WeightGradientOperands(node, dY, k, strides, dilations, pads, ho, wo);
            matrix = Columns(slices, channels, "dw");
        }

        var gradient = e.Node("Gemm", [dy2, matrix], "dw_gemm", GraphEmitter.Int("transB", 1));
        return e.Node("Reshape", [gradient, e.Longs("dw_shape", 0, channels, k[0], k[1])], "dconv_w");
    }

    /// <summary>
    /// Grouped dW (g groups, M/g filters of C/g channels each), the taps formulation batched over
    /// groups: X transposed to C×N×H×W and padded once; per tap a strided slice reshaped to
    /// g×(C/g)×(N·Ho·Wo) and dY as g×(M/g)×(N·Ho·Wo); one batched MatMul gives that tap's
    /// g×(M/g)×(C/g) gradient, which is M×(C/g) in the weight's own channel order.
    /// </summary>
    private string GroupedWeightGradient(NodeProto node, string dY, long group, long filters, long channelsPerGroup, long[] k, long[] strides, long[] dilations, long[] pads, long ho, long wo)
    {
        var xt = e.Node("Transpose", [node.Input[0]], "dwg_xt", GraphEmitter.Ints("perm", 1, 0, 2, 3));
        var padded = pads.Any(p => p != 0)
            ? e.Node("Pad", [xt, e.Longs("dwg_pads", 0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3])], "dwg_xpad")
            : xt;
        var dyt = e.Node("Reshape", [e.Node("Transpose", [dY], "dwg_dyt", GraphEmitter.Ints("perm", 1, 0, 2, 3)), e.Longs("dwg_dy3", group, filters / group, -1)], "dwg_dy3d");
        var grouped = e.Longs("dwg_x3", group, channelsPerGroup, -1);
        var column = e.Longs("dwg_col", filters, channelsPerGroup, 1);
        var taps = new List<string>();
        for (var i = 0; i < k[0]; i++)
        {
            for (var j = 0; j < k[1]; j++)
            {
                var top = i * dilations[0];
                var left = j * dilations[1];
                var slice = e.Node("Slice", [padded, e.Longs("dwg_s", top, left), e.Longs("dwg_e", top + ((ho - 1) * strides[0]) + 1, left + ((wo - 1) * strides[1]) + 1),
                    e.Longs("dwg_axes", 2, 3), e.Longs("dwg_steps", strides[0], strides[1])], "dwg_tap");
                var x3 = e.Node("Transpose", [e.Node("Reshape", [slice, grouped], "dwg_x3d")], "dwg_x3t", GraphEmitter.Ints("perm", 0, 2, 1));
                taps.Add(e.Node("Reshape", [e.Node("MatMul", [dyt, x3], "dwg_matmul"), column], "dwg_tapw"));
            }
        }

        var stacked = taps.Count == 1 ? taps[0] : e.Node("Concat", taps, "dwg_concat", GraphEmitter.Int("axis", 2));
        return e.Node("Reshape", [stacked, e.Longs("dwg_shape", filters, channelsPerGroup, k[0], k[1])], "dconv_w_grouped");
    }

    /// <summary>
    /// Σ over batch and positions of an N×C×H×W tensor, as [C]: over the positions of each (n, c) first, then over
    /// the batch. Measured 0.49× the time of one ReduceSum over axes (0, 2, 3) on the bias-gradient shapes of
    /// PaddleOCR's classifier at batch 16 (ORT reduces contiguous rows fast, the strided pattern slowly).
    /// </summary>
    private string ChannelSum(string tensor, string hint)
    {
        var rows = e.Node("Reshape", [tensor, e.Longs(hint + "_nc", 0, 0, -1)], hint + "_rows");
        var perImage = e.Node("ReduceSum", [rows, e.Longs(hint + "_hw", 2)], hint + "_hwsum", GraphEmitter.Int("keepdims", 0));
        return e.Node("ReduceSum", [perImage, e.Longs(hint + "_n", 0)], hint, GraphEmitter.Int("keepdims", 0));
    }
}

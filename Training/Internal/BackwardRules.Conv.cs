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

        // Depthwise (one filter per channel) and pointwise (1×1, stride 1, unpadded) convolutions have rules of their own.
        var depthwise = group > 1 && w.Dims[1].Value == 1 && w.Dims[0].Value == group;
        var pointwise = group == 1 && k.All(d => d == 1) && strides.All(s => s == 1) && pads.All(v => v == 0);
        if (wanted(0) && (pointwise ? PointwiseInputGradient(node, dY) : depthwise ? DepthwiseInputGradient(node, dY, group, rows, columns) : null) is { } special)
        {
            yield return (0, special);
        }
        else if (wanted(0))
        {
            // dX = ConvTranspose(dY, W) with output_padding = H − ((Ho−1)s − 2p + d(k−1) + 1).
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
                ? WeightGradientByTaps(node, dY, k, strides, dilations, pads, y.Dims[2].Value, y.Dims[3].Value)
                : depthwise
                    ? DepthwiseWeightGradient(node, dY, group, rows, columns)
                    : GroupedWeightGradient(node, dY, group, w.Dims[0].Value, w.Dims[1].Value, k, strides, dilations, pads, y.Dims[2].Value, y.Dims[3].Value));
        }

        if (node.Input.Count > 2 && node.Input[2].Length > 0 && wanted(2))
        {
            yield return (2, ChannelSum(dY, "dconv_b"));
        }
    }

    /// <summary>
    /// dW by taps (TRAINING-NOTES formulation b, measured faster on CPU): X transposed to C×N×H×W and
    /// padded once; for each kernel tap a strided slice of it times dY (M×N·Ho·Wo) gives that tap's
    /// M×C slice of the gradient.
    /// </summary>
    private string WeightGradientByTaps(NodeProto node, string dY, long[] k, long[] strides, long[] dilations, long[] pads, long ho, long wo)
    {
        var xt = e.Node("Transpose", [node.Input[0]], "dw_xt", GraphEmitter.Ints("perm", 1, 0, 2, 3));
        var padded = pads.Any(p => p != 0)
            ? e.Node("Pad", [xt, e.Longs("dw_pads", 0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3])], "dw_xpad")
            : xt;
        var dyt = e.Node("Reshape", [e.Node("Transpose", [dY], "dw_dyt", GraphEmitter.Ints("perm", 1, 0, 2, 3)), e.Longs("dw_dy2", 0, -1)], "dw_dy2d");
        var flat = e.Longs("dw_flat", 0, -1);
        var taps = new List<string>();
        for (var i = 0; i < k[0]; i++)
        {
            for (var j = 0; j < k[1]; j++)
            {
                var top = i * dilations[0];
                var left = j * dilations[1];
                var slice = e.Node("Slice", [padded, e.Longs("dw_s", top, left), e.Longs("dw_e", top + ((ho - 1) * strides[0]) + 1, left + ((wo - 1) * strides[1]) + 1),
                    e.Longs("dw_axes", 2, 3), e.Longs("dw_steps", strides[0], strides[1])], "dw_tap");
                var x2 = e.Node("Reshape", [slice, flat], "dw_x2d");
                taps.Add(e.Node("Unsqueeze", [e.Node("Gemm", [dyt, x2], "dw_gemm", GraphEmitter.Int("transB", 1)), e.Longs("dw_un", 2)], "dw_tapw"));
            }
        }

        var stacked = taps.Count == 1 ? taps[0] : e.Node("Concat", taps, "dw_concat", GraphEmitter.Int("axis", 2));
        return e.Node("Reshape", [stacked, e.Longs("dw_shape", 0, 0, k[0], k[1])], "dconv_w");
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

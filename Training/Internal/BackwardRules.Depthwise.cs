using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Conv backward rules for the shapes of mobile networks (MobileNet, PaddleOCR): depthwise convolutions
/// (one filter per channel) and pointwise 1×1 convolutions. Each formulation was chosen against the general
/// rule on the real shapes of PaddleOCR's text-direction classifier at batch 16
/// (tests/OnnxCnn.Benchmarks/training/depthwise_micro.py; medians in tests/OnnxCnn.Benchmarks/README.md).
/// </summary>
internal sealed partial class BackwardRules
{
    /// <summary>The geometry of one spatial axis of a convolution: input and output sizes, kernel, stride, dilation, pads.</summary>
    private readonly record struct ConvAxis(long Size, long Out, long Kernel, long Stride, long Dilation, long PadBegin, long PadEnd);

    /// <summary>
    /// Depthwise dW (one filter per channel) by kernel taps: per tap, Σ over batch and positions of dY times the
    /// strided slice of X that tap reads. Along the rows, where maps are a few pixels high and a 5×5 kernel reads
    /// mostly padding, each tap takes only the output rows whose input row is inside the image (its dY row slice
    /// shared by the taps of one kernel row), and a kernel row that only ever reads padding has a zero gradient and
    /// emits no work (2 of 5 on a 2-row map); along the columns X is padded once. Measured against the taps over a
    /// fully padded X (this rule 0.84× of it in the whole step, with the dX rule below), the Conv over transposed
    /// tensors (1.08–1.2× the padded taps) and one im2col Conv with one-hot kernels (1.6×).
    /// </summary>
    private string DepthwiseWeightGradient(NodeProto node, string dY, long channels, ConvAxis rows, ConvAxis columns)
    {
        var x = columns.PadBegin + columns.PadEnd == 0 ? node.Input[0]
            : e.Node("Pad", [node.Input[0], e.Longs("dwd_pads", 0, 0, 0, columns.PadBegin, 0, 0, 0, columns.PadEnd)], "dwd_xpad");
        var taps = new List<string>();
        var rowSlices = new Dictionary<(long, long), string>();
        string? zeros = null;
        for (var i = 0; i < rows.Kernel; i++)
        {
            var (from, to) = InsideOutputs(rows, i);
            for (var j = 0; j < columns.Kernel; j++)
            {
                if (from >= to)
                {
                    zeros ??= e.Floats("dwd_zero", new float[channels], channels, 1);
                    taps.Add(zeros);
                    continue;
                }

                var top = (from * rows.Stride) + (i * rows.Dilation) - rows.PadBegin;
                var left = j * columns.Dilation;
                var tap = e.Node("Slice", [x, e.Longs("dwd_s", top, left),
                    e.Longs("dwd_e", ((to - 1) * rows.Stride) + (i * rows.Dilation) - rows.PadBegin + 1, left + ((columns.Out - 1) * columns.Stride) + 1),
                    e.Longs("dwd_axes", 2, 3), e.Longs("dwd_steps", rows.Stride, columns.Stride)], "dwd_tap");
                if (!rowSlices.TryGetValue((from, to), out var g))
                {
                    rowSlices[(from, to)] = g = from == 0 && to == rows.Out ? dY
                        : e.Node("Slice", [dY, e.Longs("dwd_ys", from), e.Longs("dwd_ye", to), e.Longs("dwd_yaxes", 2)], "dwd_dyrows");
                }

                var sum = ChannelSum(e.Node("Mul", [g, tap], "dwd_mul"), "dwd_sum");
                taps.Add(e.Node("Unsqueeze", [sum, e.Longs("dwd_un", 1)], "dwd_col"));
            }
        }

        // Each tap is [C, 1]; stacked to [C, kh·kw] and shaped as [C, 1, kh, kw].
        var stacked = taps.Count == 1 ? taps[0] : e.Node("Concat", taps, "dwd_concat", GraphEmitter.Int("axis", 1));
        return e.Node("Reshape", [stacked, e.Longs("dwd_shape", channels, 1, rows.Kernel, columns.Kernel)], "dconv_w_depthwise");
    }

    /// <summary>
    /// Depthwise dW as one depthwise Conv whose kernel is dY, where ORT's NCHWc kernels can run it
    /// (<see cref="NchwcConvs"/>): dW[c,i,j] = Σ over n, h, w of Xpad[n,c,h·s+i·d, w·s′+j·d′]·dY[n,c,h,w]. The images
    /// are stacked along the rows, channel-major: X padded to a row pitch P (a multiple of the stride s, at least the
    /// padded height) as [1, C, N·P, W′], dY given P/s rows an image (zero rows after its own) as [C, 1, N·P/s, Wo];
    /// a Conv with dilation = the forward's stride and stride = its dilation then yields each tap once, and no output
    /// reads across two images (the last real dY row of an image reaches at most its padded height). On ORT's generic
    /// grouped Conv this was slower than the taps (1.08–1.2×, above); on the NCHWc kernels PaddleOCR's step (batch 16,
    /// ORT profile, 10 steps) went from 150 to 99 ms of kernel time and from 3,605 to 2,471 kernels. Null where the
    /// NCHWc kernels do not apply; the caller then takes the taps.
    /// </summary>
    private string? DepthwiseWeightGradientAsConv(NodeProto node, string dY, long channels, ConvAxis rows, ConvAxis columns)
    {
        if (NchwcConvs.BlockSize < 4 || channels % 4 != 0 || rows.PadBegin < 0 || rows.PadEnd < 0 || columns.PadBegin < 0 || columns.PadEnd < 0)
        {
            return null;
        }

        // Kernel rows that only ever read padding (2 of 5 on a 2-row map) have a zero gradient: the Conv runs on the
        // others as a kernel of their own with the padding they still reach, which shortens the row pitch (6 → 4 rows an
        // image on PaddleOCR's 2-row maps), and the skipped rows are padded back as zeros.
        var active = Enumerable.Range(0, (int)rows.Kernel).Where(i => InsideOutputs(rows, i) is var (from, to) && from < to).ToList();
        if (active.Count > 0 && active.Count < rows.Kernel)
        {
            var (first, last) = (active[0], active[^1]);
            var kernel = last - first + 1;
            var padBegin = rows.PadBegin - (first * rows.Dilation);
            var padEnd = ((rows.Out - 1) * rows.Stride) + (rows.Dilation * (kernel - 1)) + 1 - rows.Size - padBegin;
            if (padBegin >= 0 && padEnd >= 0)
            {
                var trimmed = StackedWeightGradient(node, dY, channels, rows with { Kernel = kernel, PadBegin = padBegin, PadEnd = padEnd }, columns);
                return e.Node("Pad", [trimmed, e.Longs("dwc_krows", 0, 0, first, 0, 0, 0, rows.Kernel - 1 - last, 0)], "dconv_w_depthwise");
            }
        }

        return StackedWeightGradient(node, dY, channels, rows, columns);
    }

    /// <summary>The dY-kernel Conv of <see cref="DepthwiseWeightGradientAsConv"/> for one row geometry.</summary>
    private string StackedWeightGradient(NodeProto node, string dY, long channels, ConvAxis rows, ConvAxis columns)
    {

        var paddedHeight = rows.Size + rows.PadBegin + rows.PadEnd;
        var pitch = (paddedHeight + rows.Stride - 1) / rows.Stride * rows.Stride;
        var dyPitch = pitch / rows.Stride;
        var x = e.Node("Pad", [node.Input[0], e.Longs("dwc_pads", 0, 0, rows.PadBegin, columns.PadBegin, 0, 0, pitch - rows.Size - rows.PadBegin, columns.PadEnd)], "dwc_xpad");
        var paddedWidth = columns.Size + columns.PadBegin + columns.PadEnd;
        var stackedX = e.Node("Reshape", [e.Node("Transpose", [x], "dwc_xt", GraphEmitter.Ints("perm", 1, 0, 2, 3)), e.Longs("dwc_xs", 1, channels, -1, paddedWidth)], "dwc_xstack");
        var g = dyPitch == rows.Out ? dY : e.Node("Pad", [dY, e.Longs("dwc_ypads", 0, 0, 0, 0, 0, 0, dyPitch - rows.Out, 0)], "dwc_ypad");
        var stackedY = e.Node("Reshape", [e.Node("Transpose", [g], "dwc_yt", GraphEmitter.Ints("perm", 1, 0, 2, 3)), e.Longs("dwc_ys", channels, 1, -1, columns.Out)], "dwc_ystack");

        // Output row i·d reads stacked rows up to (k−1)·d + N·P − s: zero rows after the last image keep it in range.
        var extraRows = Math.Max(0, ((rows.Kernel - 1) * rows.Dilation) - rows.Stride + 1);
        var taps = e.Node("Conv", [stackedX, stackedY], "dwc_conv", GraphEmitter.Int("group", channels),
            GraphEmitter.Ints("dilations", rows.Stride, columns.Stride), GraphEmitter.Ints("strides", rows.Dilation, columns.Dilation),
            GraphEmitter.Ints("pads", 0, 0, extraRows, 0));
        var outRows = ((extraRows + rows.Stride - 1) / rows.Dilation) + 1;
        var outColumns = ((paddedWidth - (columns.Stride * (columns.Out - 1)) - 1) / columns.Dilation) + 1;
        if (outRows != rows.Kernel || outColumns != columns.Kernel)
        {
            taps = e.Node("Slice", [taps, e.Longs("dwc_s", 0, 0), e.Longs("dwc_e", rows.Kernel, columns.Kernel), e.Longs("dwc_axes", 2, 3)], "dwc_taps");
        }

        return e.Node("Reshape", [taps, e.Longs("dwc_shape", channels, 1, rows.Kernel, columns.Kernel)], "dconv_w_depthwise");
    }

    /// <summary>The output positions [from, to) at which kernel tap <paramref name="tap"/> reads a real (not padded) input element.</summary>
    private static (long From, long To) InsideOutputs(ConvAxis axis, long tap)
    {
        // Input index of output p: p·s + tap·d − padBegin, inside when 0 ≤ it < size.
        var offset = (tap * axis.Dilation) - axis.PadBegin;
        var from = offset >= 0 ? 0 : (-offset + axis.Stride - 1) / axis.Stride;
        var last = axis.Size - 1 - offset;
        var to = last < 0 ? 0 : Math.Min(axis.Out, (last / axis.Stride) + 1);
        return (from, Math.Max(from, to));
    }

    /// <summary>
    /// Depthwise dX as a Conv of dY with the spatially flipped kernel (group C): zeros inserted between dY's
    /// rows and columns for strides, then padded by d(k−1) − p (the end reduced by the inserted trailing zeros,
    /// enlarged by the output padding). Measured 0.78–0.8× the time of ConvTranspose with group C on the model's
    /// shapes. Null where a pad would be negative (the caller then uses ConvTranspose).
    /// </summary>
    private string? DepthwiseInputGradient(NodeProto node, string dY, long channels, ConvAxis rows, ConvAxis columns)
    {
        var pads = new long[4];
        ConvAxis[] axes = [rows, columns];
        for (var a = 0; a < 2; a++)
        {
            var x = axes[a];
            var outputPadding = x.Size - (((x.Out - 1) * x.Stride) - x.PadBegin - x.PadEnd + (x.Dilation * (x.Kernel - 1)) + 1);
            pads[a] = (x.Dilation * (x.Kernel - 1)) - x.PadBegin;
            pads[a + 2] = (x.Dilation * (x.Kernel - 1)) - x.PadEnd + outputPadding - (x.Stride - 1);
            if (pads[a] < 0 || pads[a + 2] < 0)
            {
                return null;
            }
        }

        var g = dY;
        if (rows.Stride > 1)
        {
            // N×C×Ho×Wo → N×C×Ho×1×Wo → zeros after each row → N×C×(Ho·s)×Wo.
            var spread = e.Node("Pad", [e.Node("Unsqueeze", [g, e.Longs("dxd_ax", 3)], "dxd_rows"), e.Longs("dxd_rpad", 0, 0, 0, 0, 0, 0, 0, 0, rows.Stride - 1, 0)], "dxd_rowzeros");
            g = e.Node("Reshape", [spread, e.Longs("dxd_rshape", 0, 0, rows.Out * rows.Stride, columns.Out)], "dxd_rowsdilated");
        }

        if (columns.Stride > 1)
        {
            var spread = e.Node("Pad", [e.Node("Unsqueeze", [g, e.Longs("dxd_ax", 4)], "dxd_cols"), e.Longs("dxd_cpad", 0, 0, 0, 0, 0, 0, 0, 0, 0, columns.Stride - 1)], "dxd_colzeros");
            g = e.Node("Reshape", [spread, e.Longs("dxd_cshape", 0, 0, rows.Out * rows.Stride, columns.Out * columns.Stride)], "dxd_colsdilated");
        }

        var flipped = e.Node("Slice", [node.Input[1], e.Longs("dxd_fs", -1, -1), e.Longs("dxd_fe", long.MinValue, long.MinValue), e.Longs("dxd_faxes", 2, 3), e.Longs("dxd_fsteps", -1, -1)], "dxd_flip");
        return e.Node("Conv", [g, flipped], "dconv_x_depthwise", GraphEmitter.Int("group", channels), GraphEmitter.Ints("pads", pads),
            GraphEmitter.Ints("dilations", rows.Dilation, columns.Dilation), GraphEmitter.Ints("kernel_shape", rows.Kernel, columns.Kernel));
    }

    /// <summary>
    /// Pointwise (1×1, stride 1, no pad, one group) dW = Σₙ dY[n]·X[n]ᵀ: one batched MatMul of dY as N×M×HW by
    /// X as N×HW×C, summed over the batch. Measured 0.77× the time of the taps rule (which transposes both
    /// tensors to channel-major) on the model's 23 pointwise shapes; an Einsum was 1.16×.
    /// </summary>
    private string PointwiseWeightGradient(NodeProto node, string dY, long filters, long channels)
    {
        var x = e.Node("Transpose", [e.Node("Reshape", [node.Input[0], e.Longs("dwp_x3", 0, channels, -1)], "dwp_x3d")], "dwp_xt", GraphEmitter.Ints("perm", 0, 2, 1));
        var products = e.Node("MatMul", [e.Node("Reshape", [dY, e.Longs("dwp_dy3", 0, filters, -1)], "dwp_dy3d"), x], "dwp_matmul");
        var sum = e.Node("ReduceSum", [products, e.Longs("dwp_r", 0)], "dwp_sum", GraphEmitter.Int("keepdims", 0));
        return e.Node("Reshape", [sum, e.Longs("dwp_shape", filters, channels, 1, 1)], "dconv_w_pointwise");
    }

    /// <summary>
    /// Pointwise dX = Wᵀ·dY as a 1×1 Conv with the transposed weight (C×M×1×1). Measured 0.8× the time of
    /// ConvTranspose, which adds a col2im pass, on the model's pointwise shapes.
    /// </summary>
    private string PointwiseInputGradient(NodeProto node, string dY) =>
        e.Node("Conv", [dY, e.Node("Transpose", [node.Input[1]], "dxp_wt", GraphEmitter.Ints("perm", 1, 0, 2, 3))], "dconv_x_pointwise",
            GraphEmitter.Ints("kernel_shape", 1, 1));
}

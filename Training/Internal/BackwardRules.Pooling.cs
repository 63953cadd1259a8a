using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Backward rules of pooling and padding.</summary>
internal sealed partial class BackwardRules
{
    private string MaxPool(NodeProto node, string dY)
    {
        if (node.Output.Count < 2 || node.Output[1].Length == 0)
        {
            throw new InvalidOperationException($"MaxPool '{OnnxGraph.NodeLabel(node)}' must expose its Indices output before differentiation.");
        }

        // Indices are flat over N·C·H·W: scatter-add the output gradient back onto a zero tensor. For windows that tile the
        // input, MaxUnpool of the indices is the same and took 0.76× the time on the CPU (training/maxpool_micro.py), but
        // ORT's CUDA provider has no MaxUnpool kernel: a CUDA step would copy the tensors to the host and back for it.
        var shape = e.ShapeOf(node.Input[0]);
        var total = e.Node("ReduceProd", [shape], "mp_total", GraphEmitter.Int("keepdims", 1));
        var zeros = e.Node("ConstantOfShape", [total], "mp_zeros");
        var flatIndices = e.Node("Reshape", [node.Output[1], e.Longs("flat", -1)], "mp_idx");
        var flatGrad = e.Node("Reshape", [dY, e.Longs("flat", -1)], "mp_dy");
        var scattered = e.Node("ScatterElements", [zeros, flatIndices, flatGrad], "mp_scatter", GraphEmitter.Int("axis", 0), GraphEmitter.Str("reduction", "add"));
        return e.Node("Reshape", [scattered, shape], "dmaxpool");
    }

    /// <summary>
    /// AveragePool: each input position receives Σ dY/divisor over the windows that contain it — a
    /// ConvTranspose of dY/divisor with a ones kernel, per channel. The divisor map is taken from
    /// ORT itself (valid-element count from a ones Conv, divided by AveragePool of ones), so
    /// count_include_pad and the windows that ceil_mode adds past the padding use exactly the
    /// forward's convention.
    /// </summary>
    private string AveragePool(NodeProto node, string dY)
    {
        var x = shapes[node.Input[0]];
        var y = shapes[node.Output[0]];
        var k = Attr.Ints(node, "kernel_shape");
        if (x.Dims is not { Length: 4 } || y.Dims is not { Length: 4 } || k.Length != 2
            || !x.Dims[2].IsKnown || !x.Dims[3].IsKnown || !y.Dims[2].IsKnown || !y.Dims[3].IsKnown)
        {
            throw Unsupported(node, "AveragePool gradients need 2-D pooling with known spatial sizes");
        }

        if (Attr.String(node, "auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
        {
            throw Unsupported(node, "AveragePool with auto_pad SAME is not differentiated yet; give explicit pads");
        }

        if (Attr.Ints(node, "dilations") is { Length: > 0 } d && d.Any(v => v != 1))
        {
            throw Unsupported(node, "AveragePool with dilations is not differentiated yet");
        }

        var strides = Ints(node, "strides", 1);
        var pads = Attr.Ints(node, "pads") is { Length: 4 } p ? p : new long[4];
        long[] size = [x.Dims[2].Value, x.Dims[3].Value];
        long[] outSize = [y.Dims[2].Value, y.Dims[3].Value];

        // Windows ceil_mode adds may reach past the end padding: pad the counting Conv that far too.
        var countPads = (long[])pads.Clone();
        var full = new long[2];
        for (var i = 0; i < 2; i++)
        {
            full[i] = ((outSize[i] - 1) * strides[i]) + k[i];
            countPads[i + 2] = Math.Max(pads[i + 2], full[i] - size[i] - pads[i]);
        }

        var ones = e.Node("Expand", [e.Scalar(1), e.Longs("ap_one_shape", 1, 1, size[0], size[1])], "ap_ones");
        var kernel = e.Node("Expand", [e.Scalar(1), e.Longs("ap_kernel_shape", 1, 1, k[0], k[1])], "ap_kernel");
        var valid = e.Node("Conv", [ones, kernel], "ap_valid", GraphEmitter.Ints("kernel_shape", k), GraphEmitter.Ints("strides", strides), GraphEmitter.Ints("pads", countPads));
        var forwardOfOnes = e.Node("AveragePool", [ones], "ap_mean1", [.. node.Attribute.Select(a => a.Clone())]);
        var divisor = e.Node("Div", [valid, forwardOfOnes], "ap_divisor");

        var perChannel = e.Node("Reshape", [e.Node("Div", [dY, divisor], "ap_dy_div"), e.Longs("ap_nc", -1, 1, outSize[0], outSize[1])], "ap_dy_nc");
        var spread = e.Node("ConvTranspose", [perChannel, kernel], "ap_spread", GraphEmitter.Ints("kernel_shape", k), GraphEmitter.Ints("strides", strides));

        // The spread covers padded coordinates [0, full): pad what floor mode never reached, then cut the padding off.
        var tail = new[] { Math.Max(0, pads[0] + size[0] - full[0]), Math.Max(0, pads[1] + size[1] - full[1]) };
        var covered = tail.Any(t => t > 0) ? e.Node("Pad", [spread, e.Longs("ap_tail", 0, 0, 0, 0, 0, 0, tail[0], tail[1])], "ap_tail_pad") : spread;
        var cropped = e.Node("Slice", [covered, e.Longs("ap_s", pads[0], pads[1]), e.Longs("ap_e", pads[0] + size[0], pads[1] + size[1]), e.Longs("ap_axes", 2, 3)], "ap_crop");
        return e.Node("Reshape", [cropped, e.ShapeOf(node.Input[0])], "daveragepool");
    }

    /// <summary>
    /// Pad: constant mode slices the padding off the gradient (and zero-pads it back where negative
    /// pads cropped); reflect and edge scatter-add each output position's gradient onto the input
    /// element it copies, found by padding a tensor of flat input indices with the same mode.
    /// </summary>
    private string Pad(NodeProto node, string dY)
    {
        var rank = shapes[node.Input[0]].Rank;
        var graph = new OnnxGraph(e.Graph);
        if (node.Input.Count < 2 || graph.ConstantOf(node.Input[1]) is not { } padsTensor)
        {
            throw Unsupported(node, "Pad gradients need constant pads");
        }

        if (node.Input.Count > 3 && node.Input[3].Length > 0)
        {
            throw Unsupported(node, "Pad with an axes input is not differentiated yet");
        }

        var pads = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(TensorData.FromProto(padsTensor).Bytes).ToArray();
        if (rank <= 0 || pads.Length != 2 * rank)
        {
            throw Unsupported(node, $"Pad gradients need {2 * Math.Max(rank, 0)} pads for a known rank, got {pads.Length}");
        }

        var mode = Attr.String(node, "mode", "constant");
        switch (mode)
        {
            case "constant":
            {
                var axes = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
                var starts = axes.Select(i => Math.Max(0, pads[i])).ToArray();
                var ends = axes.Select(i => -Math.Max(0, pads[i + rank])).Select(v => v == 0 ? long.MaxValue : v).ToArray();
                var sliced = e.Node("Slice", [dY, e.Longs("pad_s", starts), e.Longs("pad_e", ends), e.Longs("pad_axes", axes)], "dpad_slice");
                var negative = pads.Select(v => Math.Max(0, -v)).ToArray();
                return negative.Any(v => v > 0) ? e.Node("Pad", [sliced, e.Longs("pad_back", negative)], "dpad") : sliced;
            }

            case "reflect":
            case "edge":
            {
                if (pads.Any(v => v < 0))
                {
                    throw Unsupported(node, $"Pad mode '{mode}' with negative pads is not differentiated");
                }

                var shape = e.ShapeOf(node.Input[0]);
                var count = e.Node("ReduceProd", [shape], "pad_count", GraphEmitter.Int("keepdims", 0));
                var index = e.Node("Reshape", [e.Node("Range", [Scalarize(e.Longs("pad_zero", 0)), count, Scalarize(e.Longs("pad_one", 1))], "pad_iota"), shape], "pad_index");
                var source = e.Node("Pad", [index, node.Input[1]], "pad_source", GraphEmitter.Str("mode", mode));
                var zeros = e.Node("ConstantOfShape", [e.Node("Unsqueeze", [count, e.Longs("pad_un", 0)], "pad_count1")], "pad_zeros");
                var flatIndex = e.Node("Reshape", [source, e.Longs("flat", -1)], "pad_flat_index");
                var flatGrad = e.Node("Reshape", [dY, e.Longs("flat", -1)], "pad_flat_dy");
                var scattered = e.Node("ScatterElements", [zeros, flatIndex, flatGrad], "pad_scatter", GraphEmitter.Int("axis", 0), GraphEmitter.Str("reduction", "add"));
                return e.Node("Reshape", [scattered, shape], "dpad");
            }

            default:
                throw Unsupported(node, $"Pad mode '{mode}' is not differentiated (constant, reflect and edge are)");
        }
    }

    /// <summary>A one-element 1-D tensor as a scalar (Range wants scalars).</summary>
    private string Scalarize(string tensor) => e.Node("Squeeze", [tensor, e.Longs("sq_axes", 0)], "scalar");
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Runs the depthwise convolutions of a CPU step graph on ONNX Runtime's NCHWc kernels (the
/// <c>com.microsoft.nchwc</c> operators its own NCHWc optimiser emits for inference). That optimiser only
/// rewrites a Conv whose weight is a constant, so in a step graph, where weights are inputs that change every
/// step, every depthwise Conv ran on the generic grouped Conv: an im2col and a one-row Gemm per image and channel.
/// Here each depthwise Conv (forward, dX, and the dW Conv whose kernel is dY), and each ungrouped k×k Conv with
/// channels in whole blocks (the dX Convs of ResNet-style layers), becomes ReorderInput → NCHWc Conv with its weight
/// reordered in the graph (channels in blocks of the kernels' width) → ReorderOutput.
/// The graph stays a plain ONNX graph on disk; this copy is only what the CPU session loads.
/// </summary>
internal static class NchwcConvs
{
    /// <summary>The operator domain of ORT's NCHWc kernels.</summary>
    public const string Domain = "com.microsoft.nchwc";

    private static readonly Lazy<int> Block = new(ProbeBlockSize);

    /// <summary>
    /// The channel block of ORT's NCHWc kernels on this CPU (8 with AVX2, 16 with AVX-512), read from what
    /// ReorderInput makes of four channels; 0 when this build of ORT has no NCHWc kernels.
    /// </summary>
    public static int BlockSize => Block.Value;

    /// <summary>A copy of <paramref name="model"/> with its depthwise Convs on NCHWc kernels; the model itself when there are none.</summary>
    public static OnnxModel Apply(OnnxModel model)
    {
        var block = BlockSize;
        if (block < 4)
        {
            return model;
        }

        var shapes = ShapeInference.Infer(model);
        var candidates = model.Graph.Node.Select((n, i) => (Node: n, Index: i, Kind: KindOf(n, shapes, block))).Where(c => c.Kind != ConvKind.None).ToList();
        if (candidates.Count == 0)
        {
            return model;
        }

        var copy = model.Clone();
        var g = copy.Graph;
        var e = new GraphEmitter(g);
        var ordered = new List<NodeProto>(g.Node.Count + (candidates.Count * 8));
        var replaced = candidates.ToDictionary(c => c.Index, c => c.Kind);
        var original = g.Node.ToList();
        for (var i = 0; i < original.Count; i++)
        {
            if (!replaced.TryGetValue(i, out var kind))
            {
                ordered.Add(original[i]);
                continue;
            }

            var start = g.Node.Count;
            if (kind == ConvKind.Depthwise)
            {
                RewriteDepthwise(e, original[i], shapes[original[i].Input[0]].Dims![1].Value, block);
            }
            else
            {
                RewriteDense(e, original[i], shapes[original[i].Input[1]].Dims!.Select(d => d.Value).ToArray(), block);
            }

            ordered.AddRange(g.Node.Skip(start));
            while (g.Node.Count > start)
            {
                g.Node.RemoveAt(g.Node.Count - 1);
            }
        }

        g.Node.Clear();
        g.Node.Add(ordered);
        copy.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = Domain, Version = 1 });
        return copy;
    }

    private enum ConvKind { None, Depthwise, Dense }

    /// <summary>
    /// Which NCHWc form a node takes: a 2-D Conv with one filter per channel and channels a multiple of 4
    /// (ReorderInput's condition; the blocks are zero-padded), or an ungrouped one with input and output channels
    /// multiples of the block (ORT's own optimiser leaves the others alone too) and its kernel larger than 1×1: 1×1
    /// Convs already run as one Gemm per image, and with their reorders the NCHWc form made PaddleOCR's step slower
    /// (3 interleaved pairs, batch 16: 77–88 vs 72–76 ms).
    /// </summary>
    private static ConvKind KindOf(NodeProto node, ShapeInferenceResult shapes, int block)
    {
        if (node.OpType != "Conv" || node.Domain is not ("" or "ai.onnx") || Attr.String(node, "auto_pad", "NOTSET") != "NOTSET")
        {
            return ConvKind.None;
        }

        var group = Attr.Int(node, "group", 1);
        var x = shapes[node.Input[0]];
        var w = shapes[node.Input[1]];
        if (x.Dims is not { Length: 4 } || !x.Dims[1].IsKnown || w.Dims is not { Length: 4 } || !w.Dims[0].IsKnown || !w.Dims[1].IsKnown)
        {
            return ConvKind.None;
        }

        var (channels, filters, perGroup) = (x.Dims[1].Value, w.Dims[0].Value, w.Dims[1].Value);
        if (group > 1 && group % 4 == 0 && channels == group && filters == group && perGroup == 1)
        {
            return ConvKind.Depthwise;
        }

        var pointwise = w.Dims[2].IsKnown && w.Dims[3].IsKnown && w.Dims[2].Value * w.Dims[3].Value == 1;
        return group == 1 && w.IsFullyKnown && channels == perGroup && channels % block == 0 && filters % block == 0 && !pointwise
            ? ConvKind.Dense : ConvKind.None;
    }

    /// <summary>
    /// Whether an ungrouped Conv of <paramref name="channels"/> to <paramref name="filters"/> channels runs on NCHWc
    /// kernels in a CPU session (the backward rules choose a Conv over an im2col Gemm where it does).
    /// </summary>
    public static bool TakesDense(long channels, long filters, long kernelTaps) =>
        BlockSize >= 4 && channels % BlockSize == 0 && filters % BlockSize == 0 && kernelTaps > 1;

    /// <summary>
    /// Emits the NCHWc form of one ungrouped Conv: X reordered, the weight as OIHWBiBo ([O/B, I/B, kh, kw, Bi, Bo],
    /// presented as [O, I, kh, kw]) by one Transpose, the output reordered back.
    /// </summary>
    private static void RewriteDense(GraphEmitter e, NodeProto node, long[] w, int block)
    {
        var x = e.Node("ReorderInput", [node.Input[0]], "nchwc_x");
        e.Graph.Node[^1].Domain = Domain;
        // Two ReorderInputs (MLAS's blocked transposes) instead of one generic 5-D Transpose, measured 0.18× its time on ResNet-18 layer4 (6 vs 33 ms for three 512×512×3×3 weights):
        // W as [O, I, kh·kw, 1] gives [O, I/B, kh·kw, Bi]; that as [O/B, B, I/B·kh·kw·Bi, 1] gives [O/B, I/B, kh·kw, Bi, Bo].
        var inner = e.Node("ReorderInput", [e.Node("Reshape", [node.Input[1], e.Longs("nchwc_woi", w[0], w[1], w[2] * w[3], 1)], "nchwc_woi")], "nchwc_wbi");
        e.Graph.Node[^1].Domain = Domain;
        var lanes = e.Node("ReorderInput", [e.Node("Reshape", [inner, e.Longs("nchwc_wob", w[0] / block, block, -1, 1)], "nchwc_wob")], "nchwc_wbo");
        e.Graph.Node[^1].Domain = Domain;
        var filter = e.Node("Reshape", [lanes, e.Longs("nchwc_wshape", w)], "nchwc_w");
        var inputs = new List<string> { x, filter };
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            inputs.Add(node.Input[2]);
        }

        var attributes = node.Attribute.Where(a => a.Name is "strides" or "pads" or "dilations").Select(a => a.Clone()).ToArray();
        var y = e.Node("Conv", inputs, "nchwc_conv", attributes);
        e.Graph.Node[^1].Domain = Domain;
        AddReorderOutput(e, y, node.Output[0], w[0]);
    }

    /// <summary>ReorderOutput of an NCHWc result back to NCHW under the replaced Conv's output name.</summary>
    private static void AddReorderOutput(GraphEmitter e, string y, string output, long channels) =>
        e.Graph.Node.Add(new NodeProto
        {
            OpType = "ReorderOutput",
            Domain = Domain,
            Name = e.Name("/train/nchwc_out/ReorderOutput"),
            Input = { y },
            Output = { output },
            Attribute = { GraphEmitter.Int("channels", channels) },
        });

    /// <summary>Emits the NCHWc form of one depthwise Conv, its result under the Conv's output name.</summary>
    private static void RewriteDepthwise(GraphEmitter e, NodeProto node, long channels, int block)
    {
        var padded = (channels + block - 1) / block * block;
        var x = e.Node("ReorderInput", [node.Input[0]], "nchwc_x");
        e.Graph.Node[^1].Domain = Domain;

        // OIHWBo ([Cp/B, 1, kh, kw, B], presented as [Cp, 1, kh, kw]) is the NCHWc layout of the weight seen as one
        // image [1, C, kh, kw]: ReorderInput makes it, zero-padding the channels.
        var image = e.Node("Reshape", [node.Input[1], e.Longs("nchwc_wimage", 1, -1, 0, 0)], "nchwc_wimage");
        var reordered = e.Node("ReorderInput", [image], "nchwc_wreorder");
        e.Graph.Node[^1].Domain = Domain;
        var filter = e.Node("Reshape", [reordered, e.Longs("nchwc_wshape", -1, 1, 0, 0)], "nchwc_w");

        var inputs = new List<string> { x, filter };
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            inputs.Add(padded == channels ? node.Input[2]
                : e.Node("Pad", [node.Input[2], e.Longs("nchwc_bpads", 0, padded - channels)], "nchwc_bpad"));
        }

        var attributes = node.Attribute.Where(a => a.Name is "strides" or "pads" or "dilations").Select(a => a.Clone()).ToList();
        attributes.Add(GraphEmitter.Int("group", padded));
        var y = e.Node("Conv", inputs, "nchwc_conv", [.. attributes]);
        e.Graph.Node[^1].Domain = Domain;
        AddReorderOutput(e, y, node.Output[0], channels);
    }

    private static int ProbeBlockSize()
    {
        try
        {
            var graph = new GraphProto { Name = "nchwc_probe" };
            graph.Input.Add(ShapeInference.ToValueInfo("x", new TensorShape((int)TensorProto.Types.DataType.Float, [Dim.Of(1), Dim.Of(4), Dim.Of(1), Dim.Of(1)])));
            graph.Output.Add(new ValueInfoProto { Name = "y" });
            graph.Node.Add(new NodeProto { OpType = "ReorderInput", Domain = Domain, Name = "reorder", Input = { "x" }, Output = { "y" } });
            var proto = new ModelProto { IrVersion = 8, Graph = graph };
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = Domain, Version = 1 });
            using var session = InferenceSession.FromBytes(new OnnxModel(proto).ToBytes(), new SessionOptions { IntraOpThreads = 1 });
            using var input = Tensor<float>.FromSpan([1f, 2f, 3f, 4f], 1, 4, 1, 1);
            using var result = session.Run([new KeyValuePair<string, Tensor>("x", input)]);
            return (int)result[0].Value.Shape[1];
        }
        catch (OnnxRuntimeException)
        {
            return 0;
        }
    }
}

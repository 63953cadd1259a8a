using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Runs the convolutions of a CPU step or eval graph on ONNX Runtime's NCHWc kernels (the
/// <c>com.microsoft.nchwc</c> operators its own NCHWc optimiser emits for inference). That optimiser only
/// rewrites a Conv whose weight is a constant, so in a step graph, where weights are inputs that change every
/// step, every depthwise Conv ran on the generic grouped Conv (an im2col and a one-row Gemm per image and
/// channel) and every dense one on im2col and a Gemm per image.
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

    /// <summary>A copy of <paramref name="model"/> with its eligible Convs on NCHWc kernels; the model itself when there are none.</summary>
    public static OnnxModel Apply(OnnxModel model)
    {
        var block = BlockSize;
        if (block < 4)
        {
            return model;
        }

        var shapes = ShapeInference.Infer(model);
        var kinds = new Dictionary<NodeProto, ConvKind>();
        foreach (var node in model.Graph.Node)
        {
            if (KindOf(node, shapes, block) is var kind and not ConvKind.None)
            {
                kinds[node] = kind;
            }
        }

        if (kinds.Count == 0)
        {
            return model;
        }

        var copy = model.Clone();
        var g = copy.Graph;
        var original = g.Node.ToList();
        var rewrite = new Rewriter(new GraphEmitter(g), new OnnxGraph(model.Graph), block);
        var ordered = new List<NodeProto>(original.Count + (kinds.Count * 8));
        for (var i = 0; i < original.Count; i++)
        {
            if (!kinds.TryGetValue(model.Graph.Node[i], out var kind))
            {
                ordered.Add(original[i]);
                continue;
            }

            var start = g.Node.Count;
            if (kind == ConvKind.Depthwise)
            {
                rewrite.Depthwise(original[i], shapes[original[i].Input[0]].Dims![1].Value);
            }
            else
            {
                rewrite.Dense(original[i], shapes[original[i].Input[1]].Dims!.Select(d => d.Value).ToArray());
            }

            ordered.AddRange(g.Node.Skip(start));
            while (g.Node.Count > start)
            {
                g.Node.RemoveAt(g.Node.Count - 1);
            }
        }

        g.Node.Clear();
        g.Node.Add(ordered);

        // The stacking chains of the dY-kernel Convs now read the reordered tensors; their NCHW nodes are dead.
        new OnnxGraph(g).RemoveDeadCode();
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

    /// <summary>The emission of one model's NCHWc nodes: each tensor reordered once, however many Convs read it.</summary>
    private sealed class Rewriter(GraphEmitter e, OnnxGraph source, int block)
    {
        private readonly Dictionary<string, string> reordered = new(StringComparer.Ordinal);

        /// <summary>ReorderInput of an NCHW tensor, shared by every Conv that reads it.</summary>
        private string Reordered(string tensor)
        {
            if (!reordered.TryGetValue(tensor, out var name))
            {
                reordered[tensor] = name = NchwcNode("ReorderInput", [tensor], "nchwc_x");
            }

            return name;
        }

        private string NchwcNode(string op, IEnumerable<string> inputs, string hint, params AttributeProto[] attributes)
        {
            var name = e.Node(op, inputs, hint, attributes);
            e.Graph.Node[^1].Domain = Domain;
            return name;
        }

        /// <summary>
        /// Emits the NCHWc form of one ungrouped Conv: X reordered, the weight as OIHWBiBo ([O/B, I/B, kh, kw, Bi, Bo],
        /// presented as [O, I, kh, kw]), the output reordered back.
        /// </summary>
        public void Dense(NodeProto node, long[] w)
        {
            var x = Reordered(node.Input[0]);

            // Two ReorderInputs (MLAS's blocked transposes) instead of one generic 5-D Transpose, measured 0.18× its time
            // on ResNet-18 layer4 (6 vs 33 ms for three 512×512×3×3 weights): W as [O, I, kh·kw, 1] gives
            // [O, I/B, kh·kw, Bi]; that as [O/B, B, I/B·kh·kw·Bi, 1] gives [O/B, I/B, kh·kw, Bi, Bo].
            var inner = NchwcNode("ReorderInput", [e.Node("Reshape", [node.Input[1], e.Longs("nchwc_woi", w[0], w[1], w[2] * w[3], 1)], "nchwc_woi")], "nchwc_wbi");
            var lanes = NchwcNode("ReorderInput", [e.Node("Reshape", [inner, e.Longs("nchwc_wob", w[0] / block, block, -1, 1)], "nchwc_wob")], "nchwc_wbo");
            var filter = e.Node("Reshape", [lanes, e.Longs("nchwc_wshape", w)], "nchwc_w");
            var inputs = new List<string> { x, filter };
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                inputs.Add(node.Input[2]);
            }

            var y = NchwcNode("Conv", inputs, "nchwc_conv", Geometry(node));
            AddReorderOutput(y, node.Output[0], w[0]);
        }

        /// <summary>
        /// Emits the NCHWc form of one depthwise Conv. OIHWBo ([Cp/B, 1, kh, kw, B], presented as [Cp, 1, kh, kw]) is the
        /// NCHWc layout of the weight seen as one image [1, C, kh, kw], so ReorderInput makes it, zero-padding the channels.
        /// An input or weight stacked channel-major from an NCHW tensor (depthwise dW: BackwardRules.DepthwiseWeightGradientAsConv)
        /// is stacked from that tensor's reordered form instead (<see cref="Stacked"/>).
        /// </summary>
        public void Depthwise(NodeProto node, long channels)
        {
            var padded = (channels + block - 1) / block * block;
            var x = Stacked(node.Input[0], 1, padded) ?? Reordered(node.Input[0]);
            var filter = Stacked(node.Input[1], 0, padded)
                ?? e.Node("Reshape", [NchwcNode("ReorderInput", [e.Node("Reshape", [node.Input[1], e.Longs("nchwc_wimage", 1, -1, 0, 0)], "nchwc_wimage")], "nchwc_wreorder"),
                    e.Longs("nchwc_wshape", -1, 1, 0, 0)], "nchwc_w");
            var inputs = new List<string> { x, filter };
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                inputs.Add(padded == channels ? node.Input[2]
                    : e.Node("Pad", [node.Input[2], e.Longs("nchwc_bpads", 0, padded - channels)], "nchwc_bpad"));
            }

            var y = NchwcNode("Conv", inputs, "nchwc_conv", [.. Geometry(node), GraphEmitter.Int("group", padded)]);
            AddReorderOutput(y, node.Output[0], channels);
        }

        /// <summary>
        /// For a tensor made as Reshape(Transpose(Pad?(T), perm 1,0,2,3)) — an NCHW T padded on its spatial axes and
        /// stacked channel-major — the same stacking of T's NCHWc form: [N, C/B, H, W, B] as [C/B, N, H, W, B], then
        /// padded to [C/B, N, H′, W′, B], which is the NCHWc layout of the stacked image [1, C, N·H′, W′] (<paramref name="channelAxis"/>
        /// 1) and the OIHWBo layout of the stacked kernel [C, 1, N·H′, W′] (axis 0). The Transpose moves whole
        /// H′·W′·B runs, where the NCHW one moves H′·W′ floats at a time and a ReorderInput then passes over the result
        /// again. Null for any other producer.
        /// </summary>
        private string? Stacked(string tensor, int channelAxis, long padded)
        {
            if (source.Producer(tensor) is not { OpType: "Reshape" } reshape
                || source.Producer(reshape.Input[0]) is not { OpType: "Transpose" } transpose
                || !Attr.Ints(transpose, "perm").SequenceEqual([1L, 0, 2, 3]))
            {
                return null;
            }

            var nchw = transpose.Input[0];
            long[]? pads = null;
            if (source.Producer(nchw) is { OpType: "Pad" } pad && pad.Input.Count == 2 && Attr.String(pad, "mode", "constant") == "constant"
                && source.Initializer(pad.Input[1]) is { } padValues)
            {
                pads = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(TensorData.FromProto(padValues).Bytes).ToArray();
                if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0)
                {
                    return null;
                }

                nchw = pad.Input[0];
            }

            // Transposed before it is padded: the Transpose then moves the unpadded H·W·B runs and only the Pad writes the
            // padded size (on PaddleOCR's 2-row maps the padding triples the rows).
            var blocked = e.Node("Reshape", [Reordered(nchw), e.Longs("nchwc_5d", 0, padded / block, 0, 0, block)], "nchwc_blocks");
            var stacked = e.Node("Transpose", [blocked], "nchwc_stack", GraphEmitter.Ints("perm", 1, 0, 2, 3, 4));
            if (pads is not null && pads.Any(p => p != 0))
            {
                stacked = e.Node("Pad", [stacked, e.Longs("nchwc_spads", 0, 0, pads[2], pads[3], 0, 0, 0, pads[6], pads[7], 0)], "nchwc_spad");
            }

            return e.Node("Reshape", [stacked, channelAxis == 1 ? e.Longs("nchwc_simage", 1, padded, -1, 0) : e.Longs("nchwc_skernel", padded, 1, -1, 0)], "nchwc_stacked");
        }

        private static AttributeProto[] Geometry(NodeProto node) =>
            node.Attribute.Where(a => a.Name is "strides" or "pads" or "dilations").Select(a => a.Clone()).ToArray();

        /// <summary>ReorderOutput of an NCHWc result back to NCHW under the replaced Conv's output name.</summary>
        private void AddReorderOutput(string y, string output, long channels) =>
            e.Graph.Node.Add(new NodeProto
            {
                OpType = "ReorderOutput",
                Domain = Domain,
                Name = e.Name("/train/nchwc_out/ReorderOutput"),
                Input = { y },
                Output = { output },
                Attribute = { GraphEmitter.Int("channels", channels) },
            });
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

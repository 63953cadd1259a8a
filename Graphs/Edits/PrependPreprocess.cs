using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Graphs.Edits;

/// <summary>
/// Bakes preprocessing into a model: the input becomes a uint8 NHWC RGB image batch (the layout
/// decoders produce) and the graph casts, optionally resizes (bilinear), reorders channels, scales,
/// normalises and transposes it into what the model expects. The input keeps its name.
/// </summary>
public static class PrependPreprocessEdit
{
    /// <summary>Metadata key recording what the baked-in input expects.</summary>
    public const string InputMetadataKey = "onnxcnn.input";

    /// <summary>Returns the model with preprocessing prepended to <paramref name="inputName"/> (default: the first input).</summary>
    public static OnnxModel Apply(OnnxModel model, PreprocessSpec spec, string? inputName = null)
    {
        if (spec.Resize is ResizeMode.ShorterSide or ResizeMode.Fit or ResizeMode.TextLine || spec.CropHeight > 0)
        {
            throw new InvalidOperationException("prepend-preprocess supports resize=HxW or no resize; shorter-side resize, fit, textline and crop depend on each image's size — apply them when decoding (Preprocess) instead.");
        }

        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var input = inputName is null
            ? result.Graph.Input.FirstOrDefault(i => graph.Initializer(i.Name) is null)
            : result.Graph.Input.FirstOrDefault(i => i.Name == inputName && graph.Initializer(i.Name) is null);
        if (input is null)
        {
            throw new InvalidOperationException($"model has no input '{inputName}'.");
        }

        var shape = ShapeInference.FromValueInfo(input);
        if (shape.ElementType != (int)TensorProto.Types.DataType.Float || shape.Dims is not { Length: 4 })
        {
            throw new InvalidOperationException($"input '{input.Name}' is {shape}, element type {shape.ElementType}; prepend-preprocess needs a float image input of rank 4.");
        }

        var channelAxis = spec.Nhwc ? 3 : 1;
        if (shape.Dims[channelAxis] is { IsKnown: true, Value: not 3 })
        {
            throw new InvalidOperationException($"input '{input.Name}' {shape} does not have 3 channels in the {(spec.Nhwc ? "NHWC" : "NCHW")} layout the spec says (layout=nchw|nhwc).");
        }

        var resize = spec.Resize == ResizeMode.Exact;
        if (resize && model.Opset < 11)
        {
            throw new InvalidOperationException($"an in-graph resize needs opset 11 or newer; the model imports opset {model.Opset}.");
        }

        var (h, w) = spec.Nhwc ? (shape.Dims[1], shape.Dims[2]) : (shape.Dims[2], shape.Dims[3]);
        if (resize && ((h.IsKnown && h.Value != spec.ResizeHeight) || (w.IsKnown && w.Value != spec.ResizeWidth)))
        {
            throw new InvalidOperationException($"resize={spec.ResizeHeight}x{spec.ResizeWidth} does not match input '{input.Name}' {shape}.");
        }

        // The model now reads the preprocessed tensor under a new name; the image takes the input's name.
        var original = input.Name;
        var prepared = graph.UniqueName(original + "_preprocessed");
        foreach (var node in result.Graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == original)
                {
                    node.Input[i] = prepared;
                }
            }
        }

        graph.Invalidate();
        var nodes = new List<NodeProto>();
        string Name(string suffix) => graph.UniqueName($"{original}_{suffix}");
        var current = original;
        string Step(string op, string suffix, IEnumerable<string> extraInputs, params AttributeProto[] attributes)
        {
            var output = Name(suffix);
            nodes.Add(Tensors.Node(op, $"/preprocess/{op}_{nodes.Count}", new[] { current }.Concat(extraInputs), [output], attributes));
            result.Graph.Node.Add(nodes[^1]);
            graph.Invalidate();
            current = output;
            return output;
        }

        Step("Cast", "float", [], Tensors.IntAttr("to", (int)TensorProto.Types.DataType.Float));
        if (spec.Bgr)
        {
            var order = Name("bgr_indices");
            result.Graph.Initializer.Add(Tensors.Int64(order, [2, 1, 0], 3));
            Step("Gather", "bgr", [order], Tensors.IntAttr("axis", 3));
        }

        // (x·scale − mean)/std = x·(scale/std) + (−mean/std), per channel on the last (NHWC) axis.
        var multiply = spec.Std.Select(s => spec.Scale / s).ToArray();
        var add = spec.Mean.Zip(spec.Std, (m, s) => -m / s).ToArray();
        if (multiply.Any(m => m != 1))
        {
            var k = Name("scale");
            result.Graph.Initializer.Add(Tensors.Float(k, multiply, 3));
            Step("Mul", "scaled", [k]);
        }

        if (add.Any(a => a != 0))
        {
            var b = Name("shift");
            result.Graph.Initializer.Add(Tensors.Float(b, add, 3));
            Step("Add", "normalised", [b]);
        }

        if (!spec.Nhwc)
        {
            Step("Transpose", "nchw", [], Tensors.IntsAttr("perm", 0, 3, 1, 2));
        }

        if (resize)
        {
            AddResize(result, graph, spec, model.Opset, Name, ref current, nodes);
        }

        // Rename the last step's output to the tensor the model reads.
        var last = result.Graph.Node.Last();
        last.Output[0] = prepared;
        graph.Invalidate();

        var batch = shape.Dims[0];
        var image = new TensorShape((int)TensorProto.Types.DataType.Uint8,
            [batch, resize ? Dim.Sym("height") : h, resize ? Dim.Sym("width") : w, Dim.Of(3)]);
        var index = result.Graph.Input.IndexOf(result.Graph.Input.First(i => i.Name == original));
        result.Graph.Input[index] = ShapeInference.ToValueInfo(original, image);

        // Preprocessing nodes first, so the node list stays in topological order.
        var rest = result.Graph.Node.Where(n => !nodes.Contains(n)).ToList();
        result.Graph.Node.Clear();
        result.Graph.Node.Add(nodes);
        result.Graph.Node.Add(rest);
        result.Proto.MetadataProps.Add(new StringStringEntryProto { Key = InputMetadataKey, Value = $"uint8 NHWC RGB image; in-graph preprocessing: {spec}" });
        graph.Invalidate();
        return GraphEdits.Finish(result);
    }

    private static void AddResize(OnnxModel result, OnnxGraph graph, PreprocessSpec spec, long opset, Func<string, string> name, ref string current, List<NodeProto> nodes)
    {
        // sizes = Concat(Shape(x)[0:2 or 0:1], [H, W] (, [3])) for NCHW (NHWC).
        var shapeOut = name("shape");
        var starts = name("slice_starts");
        var ends = name("slice_ends");
        var lead = name("lead");
        var hw = name("target_hw");
        var sizes = name("sizes");
        result.Graph.Initializer.Add(Tensors.Int64(starts, [0], 1));
        result.Graph.Initializer.Add(Tensors.Int64(ends, [spec.Nhwc ? 1 : 2], 1));
        result.Graph.Initializer.Add(Tensors.Int64(hw, spec.Nhwc ? [spec.ResizeHeight, spec.ResizeWidth, 3] : [spec.ResizeHeight, spec.ResizeWidth], spec.Nhwc ? 3 : 2));
        var added = new List<NodeProto>
        {
            Tensors.Node("Shape", "/preprocess/Shape", [current], [shapeOut]),
            Tensors.Node("Slice", "/preprocess/Slice", [shapeOut, starts, ends], [lead]),
            Tensors.Node("Concat", "/preprocess/Concat", [lead, hw], [sizes], Tensors.IntAttr("axis", 0)),
        };
        string roi = "", scales = "";
        if (opset < 13)
        {
            roi = name("roi");
            scales = name("scales");
            result.Graph.Initializer.Add(Tensors.Float(roi, [], 0));
            result.Graph.Initializer.Add(Tensors.Float(scales, [], 0));
        }

        var output = name("resized");
        var attributes = new List<AttributeProto>
        {
            new() { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("linear") },
            new() { Name = "coordinate_transformation_mode", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("half_pixel") },
        };
        if (opset >= 18)
        {
            // Antialiased downscaling, like PIL's bilinear filter that torchvision uses.
            attributes.Add(Tensors.IntAttr("antialias", 1));
        }

        added.Add(Tensors.Node("Resize", "/preprocess/Resize", [current, roi, scales, sizes], [output], [.. attributes]));
        foreach (var n in added)
        {
            result.Graph.Node.Add(n);
            nodes.Add(n);
        }

        graph.Invalidate();
        current = output;
    }
}

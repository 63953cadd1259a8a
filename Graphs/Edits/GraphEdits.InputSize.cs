using System.Globalization;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>Input size: set or free the spatial dimensions of the image input, refusing graphs that bake a size in.</summary>
public static partial class GraphEdits
{
    /// <summary>
    /// Sets the height and width of the image input (<paramref name="input"/>, default the first) and re-infers the
    /// output shapes. The layout is read from the input: [N,C,H,W] with C of 1, 3 or 4, else [N,H,W,C].
    /// </summary>
    /// <exception cref="InvalidOperationException">The graph bakes a size in (a constant Reshape, a dense layer whose
    /// input width would change, a constant broadcast over the spatial dims) or a layer's output would be empty at that size.</exception>
    public static OnnxModel SetInputSize(OnnxModel model, int height, int width, string? input = null)
    {
        if (height < 1 || width < 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the input size must be at least 1x1, got {height}x{width}."));
        }

        var (name, axes, _) = ImageInput(model, input);
        CheckSize(model, name, axes, height, width, "at");
        return WithSpatialDims(model, name, axes,
            new TensorShapeProto.Types.Dimension { DimValue = height }, new TensorShapeProto.Types.Dimension { DimValue = width });
    }

    /// <summary>
    /// Makes the height and width of the image input symbolic (<paramref name="heightSymbol"/>, <paramref name="widthSymbol"/>),
    /// after checking at two other sizes that nothing in the graph depends on the size it was exported at.
    /// </summary>
    /// <exception cref="InvalidOperationException">The graph bakes a size in (see <see cref="SetInputSize"/>).</exception>
    public static OnnxModel FreeInputSize(OnnxModel model, string? input = null, string heightSymbol = "height", string widthSymbol = "width")
    {
        var (name, axes, dims) = ImageInput(model, input);

        // Two probes that differ from each other and from the exported size: a size-bound layer fails at one at least.
        var h0 = dims[axes.Height].IsKnown ? dims[axes.Height].Value : 224;
        var w0 = dims[axes.Width].IsKnown ? dims[axes.Width].Value : 224;
        foreach (var grow in new[] { 32, 64 })
        {
            CheckSize(model, name, axes, h0 + grow, w0 + grow, "when freed, e.g. at");
        }

        return WithSpatialDims(model, name, axes,
            new TensorShapeProto.Types.Dimension { DimParam = heightSymbol }, new TensorShapeProto.Types.Dimension { DimParam = widthSymbol });
    }

    /// <summary>The image input's name, the axes of its height and width, and its dims.</summary>
    private static (string Name, (int Height, int Width) Axes, Dim[] Dims) ImageInput(OnnxModel model, string? input)
    {
        var graph = new OnnxGraph(model.Graph);
        var inputs = RuntimeInputs(graph).ToList();
        var name = input ?? inputs.FirstOrDefault() ?? throw new InvalidOperationException("the model has no inputs.");
        if (!inputs.Contains(name))
        {
            throw new InvalidOperationException($"model has no input '{name}'; its inputs are: {string.Join(", ", inputs)}.");
        }

        var shape = ShapeInference.FromValueInfo(model.Graph.Input.First(i => i.Name == name));
        if (shape.Dims is not { Length: 4 } dims)
        {
            throw new InvalidOperationException($"input '{name}' has shape {shape}, not an image batch [N,C,H,W] or [N,H,W,C].");
        }

        static bool IsChannels(Dim d) => d.IsKnown && d.Value is 1 or 3 or 4;
        if (IsChannels(dims[1]))
        {
            return (name, (2, 3), dims);
        }

        if (IsChannels(dims[3]))
        {
            return (name, (1, 2), dims);
        }

        throw new InvalidOperationException($"input '{name}' has shape {shape}: neither dim 1 nor dim 3 is a channel count of 1, 3 or 4, so its height and width cannot be told apart.");
    }

    private static OnnxModel WithSpatialDims(OnnxModel model, string name, (int Height, int Width) axes,
        TensorShapeProto.Types.Dimension height, TensorShapeProto.Types.Dimension width)
    {
        var result = model.Clone();
        var dims = result.Graph.Input.First(i => i.Name == name).Type.TensorType.Shape.Dim;
        dims[axes.Height] = height;
        dims[axes.Width] = width;

        // Intermediate hints and output shapes were inferred at the old size.
        result.Graph.ValueInfo.Clear();
        var shapes = ShapeInference.Infer(result);
        for (var i = 0; i < result.Graph.Output.Count; i++)
        {
            var output = result.Graph.Output[i];
            var declared = ShapeInference.FromValueInfo(output);
            var inferred = shapes[output.Name];
            result.Graph.Output[i] = ShapeInference.ToValueInfo(output.Name, inferred with
            {
                ElementType = inferred.ElementType != 0 ? inferred.ElementType : declared.ElementType,
                Dims = inferred.Dims ?? declared.Dims?.Select(_ => Dim.Unknown).ToArray(),
            });
        }

        return Finish(result);
    }

    /// <summary>Infers shapes with the input at <paramref name="height"/>×<paramref name="width"/> and refuses what would not run.</summary>
    private static void CheckSize(OnnxModel model, string name, (int Height, int Width) axes, long height, long width, string when)
    {
        var probe = Enumerable.Repeat(-1L, 4).ToArray();
        probe[axes.Height] = height;
        probe[axes.Width] = width;
        var shapes = ShapeInference.Infer(model, new Dictionary<string, long[]> { [name] = probe });
        var graph = new OnnxGraph(model.Graph);
        var size = string.Create(CultureInfo.InvariantCulture, $"{when} {height}x{width}");
        foreach (var node in graph.TopologicalOrder())
        {
            if (BakedSize(node, graph, shapes) is { } why)
            {
                throw new InvalidOperationException($"cannot change the input size: {node.OpType} '{OnnxGraph.NodeLabel(node)}' {why} {size}; " +
                    "the graph is bound to the size it was exported at (cut the model before that node with 'onnxcnn graph cut MODEL --at TENSOR' and put a new head on the cut model).");
            }

            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                if (shapes[output].Dims is { } dims && dims.Any(d => d.IsKnown && d.Value < 1))
                {
                    throw new InvalidOperationException($"cannot change the input size: {node.OpType} '{OnnxGraph.NodeLabel(node)}' would output {shapes[output]} {size} (the input is too small for it).");
                }
            }
        }
    }

    /// <summary>Why a node cannot run on the shapes inferred at the probed size, or null.</summary>
    private static string? BakedSize(NodeProto node, OnnxGraph graph, ShapeInferenceResult shapes)
    {
        var a = node.Input.Count > 0 ? shapes[node.Input[0]].Dims : null;
        switch (node.OpType)
        {
            case "Gemm" when a is { Length: 2 } && graph.ConstantOf(node.Input[1]) is { Dims.Count: 2 } w:
            {
                var k = a[Attr.Int(node, "transA", 0) != 0 ? 0 : 1];
                var expected = Attr.Int(node, "transB", 0) != 0 ? w.Dims[1] : w.Dims[0];
                return k.IsKnown && k.Value != expected ? string.Create(CultureInfo.InvariantCulture, $"has a constant weight for {expected} input features but would get {k.Value}") : null;
            }

            case "MatMul" when a is { Length: >= 1 } && graph.ConstantOf(node.Input[1]) is { Dims.Count: 2 } w:
                return a[^1].IsKnown && a[^1].Value != w.Dims[0]
                    ? string.Create(CultureInfo.InvariantCulture, $"has a constant weight for {w.Dims[0]} input features but would get {a[^1].Value}") : null;
            case "Reshape" when node.Input.Count > 1 && graph.ConstantOf(node.Input[1]) is { } target:
                return ReshapeMismatch(a, shapes[node.Output[0]].Dims, ShapeContext.ReadInts(target));
            case "Add" or "Sub" or "Mul" or "Div" or "Sum" or "Max" or "Min" or "Mean" or "PRelu" or "Where":
                return BroadcastMismatch(node.Input.Where(i => i.Length > 0).Select(i => shapes[i].Dims).ToList());
            default:
                return null;
        }
    }

    private static string? ReshapeMismatch(Dim[]? input, Dim[]? output, long[]? target)
    {
        if (input is null || output is null || target is null)
        {
            return null;
        }

        // Cancel equal symbols (the batch); what is left must hold the same number of elements.
        var symbols = input.Where(d => !d.IsKnown && d.Symbol is not null).Select(d => d.Symbol).ToList();
        long known = 1;
        foreach (var d in input)
        {
            if (d.IsKnown)
            {
                known *= d.Value;
            }
            else if (d.Symbol is null)
            {
                return null;
            }
        }

        long other = 1;
        var open = 0;
        foreach (var d in output)
        {
            if (d.IsKnown)
            {
                other *= d.Value;
            }
            else if (d.Symbol is { } s && symbols.Remove(s))
            {
                continue;
            }
            else
            {
                open++;
            }
        }

        // One open dim (a -1) takes what is left, the batch included: the known sizes must divide.
        var fits = open switch
        {
            0 => symbols.Count > 0 || known == other,
            1 => other != 0 && known % other == 0,
            _ => true,
        };
        return fits ? null : $"has the constant target shape [{string.Join(",", target)}], which cannot hold its input [{string.Join(",", input.Select(d => d.ToString()))}]";
    }

    private static string? BroadcastMismatch(IReadOnlyList<Dim[]?> shapes)
    {
        if (shapes.Any(s => s is null))
        {
            return null;
        }

        var rank = shapes.Max(s => s!.Length);
        for (var i = 0; i < rank; i++)
        {
            var sizes = shapes.Select(s => i - (rank - s!.Length) is var j && j >= 0 ? s[j] : Dim.Of(1))
                .Where(d => d.IsKnown && d.Value != 1).Select(d => d.Value).Distinct().ToList();
            if (sizes.Count > 1)
            {
                return $"broadcasts {string.Join(" with ", shapes.Select(s => "[" + string.Join(",", s!.Select(d => d.ToString())) + "]"))}, which do not match";
            }
        }

        return null;
    }
}

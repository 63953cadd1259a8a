using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs;

/// <summary>The shapes of every tensor of a graph, as far as they can be inferred.</summary>
public sealed class ShapeInferenceResult
{
    internal ShapeInferenceResult(Dictionary<string, TensorShape> shapes, Dictionary<string, Dim[]> values)
    {
        Shapes = shapes;
        Values = values;
    }

    /// <summary>Shape of every tensor reached (graph inputs, initializers, node outputs).</summary>
    public IReadOnlyDictionary<string, TensorShape> Shapes { get; }

    /// <summary>Small integer tensors whose values were folded (shape arithmetic), by name.</summary>
    public IReadOnlyDictionary<string, Dim[]> Values { get; }

    /// <summary>The shape of a tensor, or <see cref="TensorShape.Unknown"/>.</summary>
    public TensorShape this[string tensor] => Shapes.GetValueOrDefault(tensor) ?? TensorShape.Unknown;
}

/// <summary>
/// Shape inference for the CNN operator set with a symbolic batch dimension, including constant
/// folding of small shape subgraphs (Shape → Slice/Gather → Concat → Reshape). An operator it does
/// not know gives unknown shapes, never an exception.
/// </summary>
public static class ShapeInference
{
    /// <summary>Infers shapes; <paramref name="inputShapes"/> overrides graph input shapes by name (−1 keeps the model's dimension).</summary>
    public static ShapeInferenceResult Infer(OnnxModel model, IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        var graph = new OnnxGraph(model.Graph);
        var context = new ShapeContext(graph, model.Opset);
        foreach (var t in model.Graph.Initializer)
        {
            context.Set(t.Name, new TensorShape(t.DataType, t.Dims.Select(Dim.Of).ToArray()));
            context.TrySetValue(t.Name, t);
        }

        foreach (var input in model.Graph.Input)
        {
            if (graph.Initializer(input.Name) is not null)
            {
                continue;
            }

            var shape = FromValueInfo(input);
            if (inputShapes is not null && inputShapes.TryGetValue(input.Name, out var overrideDims))
            {
                var dims = overrideDims.Select((d, i) => d >= 0 ? Dim.Of(d) : shape.Dims is { } old && i < old.Length ? old[i] : Dim.Unknown).ToArray();
                shape = shape with { Dims = dims };
            }

            context.Set(input.Name, shape);
        }

        var declared = new Dictionary<string, TensorShape>(StringComparer.Ordinal);
        foreach (var v in model.Graph.Output.Concat(model.Graph.ValueInfo))
        {
            declared.TryAdd(v.Name, FromValueInfo(v));
        }

        foreach (var node in graph.TopologicalOrder())
        {
            ShapeRules.Apply(node, context);
            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                // Fall back to what the file declares when a rule could not tell.
                if (context.Get(output).Dims is null && declared.TryGetValue(output, out var d) && (inputShapes is null || inputShapes.Count == 0))
                {
                    context.Set(output, d);
                }
            }
        }

        return new ShapeInferenceResult(context.Shapes, context.Values);
    }

    /// <summary>The shape a ValueInfoProto declares.</summary>
    public static TensorShape FromValueInfo(ValueInfoProto info)
    {
        var tensor = info.Type?.TensorType;
        if (tensor is null)
        {
            return TensorShape.Unknown;
        }

        if (tensor.Shape is null)
        {
            return new TensorShape(tensor.ElemType, null);
        }

        var dims = tensor.Shape.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dim.Of(d.DimValue),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => Dim.Sym(d.DimParam),
            _ => Dim.Unknown,
        }).ToArray();
        return new TensorShape(tensor.ElemType, dims);
    }

    /// <summary>A ValueInfoProto for a tensor of the given shape.</summary>
    public static ValueInfoProto ToValueInfo(string name, TensorShape shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = shape.ElementType };
        if (shape.Dims is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var d in shape.Dims)
            {
                tensor.Shape.Dim.Add(d.IsKnown ? new TensorShapeProto.Types.Dimension { DimValue = d.Value }
                    : d.Symbol is not null ? new TensorShapeProto.Types.Dimension { DimParam = d.Symbol }
                    : new TensorShapeProto.Types.Dimension());
            }
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}

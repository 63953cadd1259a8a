using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>What shape inference knows while it walks the graph: shapes, and folded small integer values.</summary>
internal sealed class ShapeContext(OnnxGraph graph, long opset)
{
    private const int MaxFoldedElements = 64;

    public OnnxGraph Graph { get; } = graph;

    public long Opset { get; } = opset;

    public Dictionary<string, TensorShape> Shapes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Dim[]> Values { get; } = new(StringComparer.Ordinal);

    public TensorShape Get(string name) => name.Length > 0 && Shapes.TryGetValue(name, out var s) ? s : TensorShape.Unknown;

    public void Set(string name, TensorShape shape)
    {
        if (name.Length > 0)
        {
            Shapes[name] = shape;
        }
    }

    public Dim[]? Value(string name) => name.Length > 0 && Values.TryGetValue(name, out var v) ? v : null;

    public void SetValue(string name, Dim[] value)
    {
        if (name.Length > 0 && value.Length <= MaxFoldedElements)
        {
            Values[name] = value;
        }
    }

    /// <summary>Folds a small integer constant.</summary>
    public void TrySetValue(string name, TensorProto tensor)
    {
        var ints = ReadInts(tensor);
        if (ints is not null)
        {
            SetValue(name, ints.Select(Dim.Of).ToArray());
        }
    }

    /// <summary>Integer contents of a small int32/int64 tensor, else null.</summary>
    public static long[]? ReadInts(TensorProto tensor)
    {
        var count = tensor.Dims.Aggregate(1L, (a, b) => a * b);
        if (count > MaxFoldedElements || tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            return null;
        }

        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Int64:
                if (tensor.HasRawData)
                {
                    return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(tensor.RawData.Span).ToArray();
                }

                return [.. tensor.Int64Data];
            case TensorProto.Types.DataType.Int32:
                if (tensor.HasRawData)
                {
                    return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(tensor.RawData.Span).ToArray().Select(v => (long)v).ToArray();
                }

                return tensor.Int32Data.Select(v => (long)v).ToArray();
            default:
                return null;
        }
    }

    /// <summary>Float contents of a small float tensor (Resize scales), else null.</summary>
    public static float[]? ReadFloats(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float || tensor.Dims.Aggregate(1L, (a, b) => a * b) > MaxFoldedElements)
        {
            return null;
        }

        return tensor.HasRawData ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
    }

    /// <summary>A constant input's integers: folded value first, then the constant itself.</summary>
    public long[]? ConstInts(string name)
    {
        if (Value(name) is { } v && v.All(d => d.IsKnown))
        {
            return v.Select(d => d.Value).ToArray();
        }

        return Graph.ConstantOf(name) is { } t ? ReadInts(t) : null;
    }

    public float[]? ConstFloats(string name) => name.Length > 0 && Graph.ConstantOf(name) is { } t ? ReadFloats(t) : null;
}

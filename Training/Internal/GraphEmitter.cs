using Google.Protobuf;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Appends nodes and constants to a graph under unique names.</summary>
internal sealed class GraphEmitter(GraphProto graph)
{
    private readonly OnnxGraph view = new(graph);
    private int counter;

    public GraphProto Graph { get; } = graph;

    public string Name(string hint)
    {
        view.Invalidate();
        return view.UniqueName($"{hint}_{counter++}");
    }

    public string Node(string op, IEnumerable<string> inputs, string hint, params AttributeProto[] attributes) =>
        NodeMulti(op, inputs, 1, hint, attributes)[0];

    public string[] NodeMulti(string op, IEnumerable<string> inputs, int outputs, string hint, params AttributeProto[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => Name($"/train/{hint}")).ToArray();
        var node = new NodeProto { OpType = op, Name = Name($"/train/{hint}/{op}") };
        node.Input.Add(inputs);
        node.Output.Add(names);
        node.Attribute.Add(attributes);
        Graph.Node.Add(node);
        return names;
    }

    public string Floats(string hint, float[] values, params long[] dims)
    {
        var name = Name(hint);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(dims);
        Graph.Initializer.Add(t);
        return name;
    }

    public string Scalar(float value) => Floats("const", [value]);

    public string Longs(string hint, params long[] values)
    {
        var name = Name(hint);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(values.Length);
        Graph.Initializer.Add(t);
        return name;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Str(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>
    /// Replaces <paramref name="node"/> (at <paramref name="index"/>) by the nodes emitted since the graph had
    /// <paramref name="emittedFrom"/> nodes: <paramref name="result"/> is renamed to the node's output, and the new nodes
    /// take the node's place so the graph stays topologically sorted.
    /// </summary>
    public void ReplaceNode(NodeProto node, int index, int emittedFrom, string result)
    {
        var added = Graph.Node.Skip(emittedFrom).ToList();
        added.First(n => n.Output[0] == result).Output[0] = node.Output[0];
        foreach (var n in added)
        {
            Graph.Node.Remove(n);
        }

        Graph.Node.Remove(node);
        for (var i = 0; i < added.Count; i++)
        {
            Graph.Node.Insert(index + i, added[i]);
        }
    }

    /// <summary>The runtime shape of a tensor.</summary>
    public string ShapeOf(string tensor) => Node("Shape", [tensor], "shape");
}

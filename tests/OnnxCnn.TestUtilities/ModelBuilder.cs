using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.TestUtilities;

/// <summary>Builds small ONNX models in code for tests, so no model binaries need committing.</summary>
public sealed class ModelBuilder
{
    private readonly ModelProto model;
    private int nodeCount;

    public ModelBuilder(int opset = 17, string name = "test")
    {
        model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "onnxcnn-tests",
            Graph = new GraphProto { Name = name },
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
    }

    public GraphProto Graph => model.Graph;

    public ModelBuilder Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        model.Graph.Input.Add(ValueInfo(name, type, dims));
        return this;
    }

    public ModelBuilder Output(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        model.Graph.Output.Add(ValueInfo(name, type, dims));
        return this;
    }

    public ModelBuilder Node(string opType, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{nodeCount++}" };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        node.Attribute.Add(attributes);
        model.Graph.Node.Add(node);
        return this;
    }

    public ModelBuilder Initializer(string name, float[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.Add(dims);
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        model.Graph.Initializer.Add(t);
        return this;
    }

    public ModelBuilder Initializer(string name, long[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(dims);
        t.Int64Data.Add(data);
        model.Graph.Initializer.Add(t);
        return this;
    }

    public ModelBuilder Metadata(string key, string value)
    {
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return this;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public byte[] ToBytes() => model.ToByteArray();

    public string Save(string path)
    {
        File.WriteAllBytes(path, ToBytes());
        return path;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        if (dims.Length == 0)
        {
            // No dimensions given: the shape is unknown (not a scalar).
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } };
        }

        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                _ => throw new ArgumentException($"dimension {d} is neither a number nor a name"),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}

using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>Small helpers to make and read float tensors and nodes.</summary>
internal static class Tensors
{
    public static TensorProto Float(string name, float[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        t.Dims.Add(dims);
        return t;
    }

    public static TensorProto Int64(string name, long[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        t.Dims.Add(dims);
        return t;
    }

    public static long Count(TensorProto t) => t.Dims.Aggregate(1L, (a, b) => a * b);

    public static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        node.Attribute.Add(attributes);
        return node;
    }

    public static AttributeProto IntAttr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto FloatAttr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto IntsAttr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }
}

/// <summary>Seeded initialisers with PyTorch's formulas (the values differ from PyTorch's generator; the distributions match).</summary>
internal sealed class SeededInit(int seed)
{
    private readonly Random random = new(seed);

    /// <summary>U(−bound, bound).</summary>
    public float[] Uniform(long count, double bound)
    {
        var data = new float[count];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(((random.NextDouble() * 2) - 1) * bound);
        }

        return data;
    }

    /// <summary>N(0, std²) by Box–Muller.</summary>
    public float[] Normal(long count, double std)
    {
        var data = new float[count];
        for (var i = 0; i < data.Length; i += 2)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var r = Math.Sqrt(-2.0 * Math.Log(u1)) * std;
            data[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < data.Length)
            {
                data[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
            }
        }

        return data;
    }

    /// <summary>PyTorch's Linear/Conv default: kaiming_uniform(a=√5) → U(±1/√fan_in) for weights and biases.</summary>
    public float[] TorchDefault(long count, long fanIn) => Uniform(count, fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0);
}

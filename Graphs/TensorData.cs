using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs;

/// <summary>
/// The contents of an ONNX <c>TensorProto</c> as dense little-endian bytes: element type (ONNX
/// <c>DataType</c> number), dimensions and data, whichever field the writer used (raw_data or
/// the typed repeated fields).
/// </summary>
public sealed class TensorData
{
    /// <summary>Creates tensor data.</summary>
    public TensorData(string name, int dataType, long[] dims, byte[] bytes)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        Bytes = bytes;
    }

    /// <summary>The tensor's name (may be empty).</summary>
    public string Name { get; }

    /// <summary>ONNX <c>TensorProto.DataType</c> number (1 = float, 7 = int64, …).</summary>
    public int DataType { get; }

    /// <summary>Dimensions.</summary>
    public long[] Dims { get; }

    /// <summary>Dense little-endian element data.</summary>
    public byte[] Bytes { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes per element of an ONNX data type, or 0 for types without a fixed size (string).</summary>
    public static int ElementSize(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64
            or TensorProto.Types.DataType.Complex64 => 8,
        TensorProto.Types.DataType.Complex128 => 16,
        TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool
            or TensorProto.Types.DataType.Float8E4M3Fn or TensorProto.Types.DataType.Float8E4M3Fnuz
            or TensorProto.Types.DataType.Float8E5M2 or TensorProto.Types.DataType.Float8E5M2Fnuz => 1,
        TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Float16
            or TensorProto.Types.DataType.Bfloat16 => 2,
        _ => 0,
    };

    /// <summary>Reads a serialized <c>TensorProto</c> file (such as ONNX's test_data_set_*/input_0.pb).</summary>
    public static TensorData ReadFile(string path)
    {
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{path}' is not a serialized ONNX TensorProto: {e.Message}", e);
        }

        return FromProto(proto, path);
    }

    /// <summary>Decodes a <c>TensorProto</c> held inline (external data is not resolved here).</summary>
    public static TensorData FromProto(TensorProto proto, string where = "tensor")
    {
        var name = proto.Name;
        var dims = proto.Dims.ToArray();
        var type = proto.DataType;
        var size = ElementSize(type);
        if (size == 0)
        {
            throw new NotSupportedException($"{where}: tensor '{name}' has data type {(TensorProto.Types.DataType)type}, which has no fixed-size encoding.");
        }

        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new NotSupportedException($"{where}: tensor '{name}' keeps its data in an external file; load it through the model.");
        }

        var count = CheckedElementCount(dims, where, name);
        var expected = count * size;
        if (expected > Array.MaxLength)
        {
            throw new InvalidDataException($"{where}: tensor '{name}' of shape [{string.Join(',', dims)}] needs {expected} bytes, more than one tensor can hold.");
        }

        byte[] bytes;
        if (proto.HasRawData)
        {
            bytes = proto.RawData.ToByteArray();
        }
        else
        {
            // The declared shape is checked against the values actually present before allocating for it.
            var present = (TensorProto.Types.DataType)type switch
            {
                TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Complex64 => proto.FloatData.Count * 4L,
                TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Complex128 => proto.DoubleData.Count * 8L,
                TensorProto.Types.DataType.Int64 => proto.Int64Data.Count * 8L,
                TensorProto.Types.DataType.Uint32 => proto.Uint64Data.Count * 4L,
                TensorProto.Types.DataType.Uint64 => proto.Uint64Data.Count * 8L,
                TensorProto.Types.DataType.Int32 => proto.Int32Data.Count * 4L,
                _ => proto.Int32Data.Count * (long)size,
            };
            if (present != expected)
            {
                throw new InvalidDataException($"{where}: tensor '{name}' holds {present} bytes of values, but its shape [{string.Join(',', dims)}] of {(TensorProto.Types.DataType)type} needs {expected}.");
            }

            bytes = new byte[expected];
            switch ((TensorProto.Types.DataType)type)
            {
                case TensorProto.Types.DataType.Float:
                case TensorProto.Types.DataType.Complex64:
                    CopyTo(proto.FloatData.ToArray(), bytes);
                    break;
                case TensorProto.Types.DataType.Double:
                case TensorProto.Types.DataType.Complex128:
                    CopyTo(proto.DoubleData.ToArray(), bytes);
                    break;
                case TensorProto.Types.DataType.Int64:
                    CopyTo(proto.Int64Data.ToArray(), bytes);
                    break;
                case TensorProto.Types.DataType.Uint32:
                    CopyTo(proto.Uint64Data.Select(v => (uint)v).ToArray(), bytes);
                    break;
                case TensorProto.Types.DataType.Uint64:
                    CopyTo(proto.Uint64Data.ToArray(), bytes);
                    break;
                case TensorProto.Types.DataType.Int32:
                    CopyTo(proto.Int32Data.ToArray(), bytes);
                    break;
                default:
                    // int32_data carries every type narrower than 32 bits, one element per entry
                    // (float16/bfloat16 as their bit patterns).
                    var values = proto.Int32Data;
                    if (values.Count != count)
                    {
                        throw new InvalidDataException($"{where}: tensor '{name}' has {values.Count} values for {count} elements.");
                    }

                    for (var i = 0; i < values.Count; i++)
                    {
                        var v = values[i];
                        if (size == 1)
                        {
                            bytes[i] = (byte)v;
                        }
                        else
                        {
                            bytes[2 * i] = (byte)v;
                            bytes[(2 * i) + 1] = (byte)(v >> 8);
                        }
                    }

                    break;
            }
        }

        if (bytes.LongLength != expected)
        {
            throw new InvalidDataException($"{where}: tensor '{name}' holds {bytes.LongLength} bytes, but its shape [{string.Join(',', dims)}] of {(TensorProto.Types.DataType)type} needs {expected}.");
        }

        return new TensorData(name, type, dims, bytes);
    }

    /// <summary>The element count of a shape from a file: no negative dimension, no overflow, at most <see cref="Array.MaxLength"/>.</summary>
    internal static long CheckedElementCount(IReadOnlyList<long> dims, string where, string name)
    {
        var count = 1L;
        foreach (var d in dims)
        {
            if (d < 0)
            {
                throw new InvalidDataException($"{where}: tensor '{name}' has shape [{string.Join(',', dims)}] with a negative dimension.");
            }

            if (d > Array.MaxLength || (count *= d) > Array.MaxLength)
            {
                throw new InvalidDataException($"{where}: tensor '{name}' has shape [{string.Join(',', dims)}], more elements than one tensor can hold.");
            }
        }

        return count;
    }

    private static void CopyTo<T>(T[] values, byte[] destination)
        where T : unmanaged
    {
        var source = MemoryMarshal.AsBytes(values.AsSpan());
        if (source.Length != destination.Length)
        {
            throw new InvalidDataException($"typed tensor data has {source.Length} bytes where {destination.Length} are expected.");
        }

        source.CopyTo(destination);
    }
}

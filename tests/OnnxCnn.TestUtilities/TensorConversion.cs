using OnnxCnn.Graphs;
using OnnxCnn.Runtime;

namespace OnnxCnn.TestUtilities;

/// <summary>Turns decoded ONNX TensorProto data into runtime tensors (tests bridge the two modules).</summary>
public static class TensorConversion
{
    public static Tensor ToTensor(TensorData data)
    {
        Tensor t = (TensorElementType)data.DataType switch
        {
            TensorElementType.Float32 => Tensor<float>.Create(data.Dims),
            TensorElementType.Float64 => Tensor<double>.Create(data.Dims),
            TensorElementType.Float16 => Tensor<Half>.Create(data.Dims),
            TensorElementType.Int64 => Tensor<long>.Create(data.Dims),
            TensorElementType.Int32 => Tensor<int>.Create(data.Dims),
            TensorElementType.Int16 => Tensor<short>.Create(data.Dims),
            TensorElementType.Int8 => Tensor<sbyte>.Create(data.Dims),
            TensorElementType.UInt8 => Tensor<byte>.Create(data.Dims),
            TensorElementType.UInt16 => Tensor<ushort>.Create(data.Dims),
            TensorElementType.UInt32 => Tensor<uint>.Create(data.Dims),
            TensorElementType.UInt64 => Tensor<ulong>.Create(data.Dims),
            TensorElementType.Bool => Tensor<bool>.Create(data.Dims),
            var other => throw new NotSupportedException($"tensor '{data.Name}' has element type {other.Name()}"),
        };
        data.Bytes.CopyTo(t.Bytes);
        return t;
    }
}

namespace OnnxCnn.Runtime.Internal;

/// <summary>Wraps OrtValues that ORT allocated (run outputs) as tensors, without copying.</summary>
internal static unsafe class OrtValues
{
    public static Tensor ToTensor(OrtHandle value, string name)
    {
        try
        {
            if (!Api.IsTensor(value.Pointer))
            {
                throw new NotSupportedException($"output '{name}' is not a tensor (ONNX type {Api.GetValueType(value.Pointer)}); OnnxCnn handles tensor outputs only.");
            }

            var (type, dims) = Api.GetTensorTypeAndShape(value.Pointer);
            var data = Api.GetTensorMutableData(value.Pointer);
            var (location, id, deviceType) = Api.GetTensorMemoryInfo(value.Pointer);
            var onHost = deviceType == 0;
            return (TensorElementType)type switch
            {
                TensorElementType.Float32 => new Tensor<float>(dims, value, data, location, id, onHost),
                TensorElementType.Float64 => new Tensor<double>(dims, value, data, location, id, onHost),
                TensorElementType.Float16 => new Tensor<Half>(dims, value, data, location, id, onHost),
                TensorElementType.Int64 => new Tensor<long>(dims, value, data, location, id, onHost),
                TensorElementType.Int32 => new Tensor<int>(dims, value, data, location, id, onHost),
                TensorElementType.Int16 => new Tensor<short>(dims, value, data, location, id, onHost),
                TensorElementType.Int8 => new Tensor<sbyte>(dims, value, data, location, id, onHost),
                TensorElementType.UInt8 => new Tensor<byte>(dims, value, data, location, id, onHost),
                TensorElementType.UInt16 => new Tensor<ushort>(dims, value, data, location, id, onHost),
                TensorElementType.UInt32 => new Tensor<uint>(dims, value, data, location, id, onHost),
                TensorElementType.UInt64 => new Tensor<ulong>(dims, value, data, location, id, onHost),
                TensorElementType.Bool => new Tensor<bool>(dims, value, data, location, id, onHost),
                var t => throw new NotSupportedException($"output '{name}' has element type {t.Name()}, which OnnxCnn tensors do not support."),
            };
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Internal;

/// <summary>Wraps OrtValues that ORT allocated (run outputs, device tensors) as tensors, without copying.</summary>
internal static unsafe class OrtValues
{
    /// <summary>The tensor over <paramref name="value"/>'s memory; it owns (and disposes) the value.</summary>
    public static Tensor ToTensor(Ort.OrtValue value, string name)
    {
        try
        {
            if (!value.IsTensor)
            {
                throw new NotSupportedException($"output '{name}' is not a tensor (ONNX type {value.OnnxType}); OnnxCnn handles tensor outputs only.");
            }

            var info = value.GetTensorTypeAndShape();
            var dims = info.Shape;
            var type = (TensorElementType)info.ElementDataType;

            if (type is TensorElementType.String or TensorElementType.BFloat16 or TensorElementType.Undefined || (int)type > (int)TensorElementType.UInt64)
            {
                throw new NotSupportedException($"output '{name}' has element type {type.Name()}, which OnnxCnn tensors do not support.");
            }

            var memory = value.GetTensorMemoryInfo();
            var location = memory.Name;
            var id = memory.Id;
            var onHost = memory.GetDeviceType() == Ort.OrtMemoryInfoDeviceType.CPU;
            // The span is only a way to get the data address; device memory is never read through it.
            var data = Unsafe.AsPointer(ref MemoryMarshal.GetReference(value.GetTensorMutableRawData()));
            return type switch
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

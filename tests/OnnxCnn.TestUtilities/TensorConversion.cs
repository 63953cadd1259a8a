using OnnxCnn.Graphs;
using OnnxCnn.Runtime;

namespace OnnxCnn.TestUtilities;

/// <summary>Turns decoded ONNX TensorProto data into runtime tensors (tests bridge the two modules).</summary>
public static class TensorConversion
{
    public static Tensor ToTensor(TensorData data)
    {
        var t = Tensor.Create((TensorElementType)data.DataType, data.Dims);
        data.Bytes.CopyTo(t.Bytes);
        return t;
    }
}

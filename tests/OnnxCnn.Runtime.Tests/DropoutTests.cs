using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// Dropout in training mode, checked by its semantics (ONNX's conformance outputs depend on
/// NumPy's random generator, which ORT does not share).
/// </summary>
public class DropoutTests
{
    [Fact]
    public void TrainingDropout_OutputIsZeroOrScaled_AndMaskAgrees()
    {
        var ratio = new TensorProto { Name = "ratio", DataType = (int)TensorProto.Types.DataType.Float };
        ratio.FloatData.Add(0.25f);
        var training = new TensorProto { Name = "training", DataType = (int)TensorProto.Types.DataType.Bool };
        training.Int32Data.Add(1);
        var b = new ModelBuilder(opset: 17)
            .Input("X", TensorProto.Types.DataType.Float, 10000)
            .Node("Dropout", ["X", "ratio", "training"], ["Y", "mask"], ModelBuilder.Int("seed", 5))
            .Output("Y", TensorProto.Types.DataType.Float, 10000)
            .Output("mask", TensorProto.Types.DataType.Bool, 10000);
        b.Graph.Initializer.Add(ratio);
        b.Graph.Initializer.Add(training);
        using var session = InferenceSession.FromBytes(b.ToBytes());
        using var x = Tensor<float>.Create(10000);
        for (var i = 0; i < 10000; i++)
        {
            x[i] = 1 + (i % 13);
        }

        using var r = session.Run(x);
        var y = r["Y"].As<float>().Span;
        var mask = r["mask"].As<bool>().Span;
        var kept = 0;
        for (var i = 0; i < 10000; i++)
        {
            if (mask[i])
            {
                kept++;
                Assert.Equal(x[i] / 0.75f, y[i], 1e-5f);
            }
            else
            {
                Assert.Equal(0f, y[i]);
            }
        }

        Assert.InRange(kept, 7200, 7800);
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>Training-mode BatchNormalization: batch-statistics gradients and running-statistic updates.</summary>
public class BatchNormTrainingTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    internal static OnnxModel ConvBn(int size, long stride)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2, size, size)
            .Initializer("scale", Random(2, 91, 1f), 1, 2, 1, 1)
            .Initializer("conv.w", Random(3 * 2 * 9, 92, 0.6f), 3, 2, 3, 3)
            .Initializer("bn.scale", [1.2f, 0.8f, 1.1f], 3)
            .Initializer("bn.bias", [0.1f, -0.2f, 0.05f], 3)
            .Initializer("bn.mean", [0.05f, -0.1f, 0.2f], 3)
            .Initializer("bn.var", [0.9f, 1.3f, 0.7f], 3)
            .Initializer("fc.w", Random(4 * 3, 93, 1f), 4, 3)
            .Initializer("bn1d.scale", [0.9f, 1.3f, 0.7f, 1.1f], 4)
            .Initializer("bn1d.bias", [0.2f, -0.1f, 0.0f, 0.3f], 4)
            .Initializer("bn1d.mean", [0.1f, 0.2f, -0.3f, 0.0f], 4)
            .Initializer("bn1d.var", [1.1f, 0.6f, 0.9f, 1.4f], 4)
            .Initializer("out.w", Random(3 * 4, 94, 1f), 3, 4)
            .Node("Mul", ["x", "scale"], ["s"])
            .Node("Conv", ["s", "conv.w"], ["c"], Ints("strides", stride, stride), Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["n"], Float("momentum", 0.8f))
            .Node("Sigmoid", ["n"], ["a"])
            .Node("Mul", ["a", "a"], ["q"])
            .Node("GlobalAveragePool", ["q"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["h"], Int("transB", 1))
            .Node("BatchNormalization", ["h", "bn1d.scale", "bn1d.bias", "bn1d.mean", "bn1d.var"], ["hn"])
            .Node("Sigmoid", ["hn"], ["ha"])
            .Node("Gemm", ["ha", "out.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        return OnnxModel.Load(b.ToBytes());
    }

    [Theory]
    [InlineData(6, 1)]
    [InlineData(7, 2)]
    public void Gradients_TrainingModeBatchNorm_MatchFiniteDifferences(int size, long stride)
    {
        CheckAll(ConvBn(size, stride), size, ["scale", "conv.w", "bn.scale", "bn.bias", "fc.w", "bn1d.scale", "bn1d.bias", "out.w"],
            inputShape: [4, 2, size, size], every: 2, fractionOfLargest: 5e-3, batchNorm: BatchNormMode.Train);
    }

    [Theory]
    [InlineData(6, 1)]
    [InlineData(7, 2)]
    public void Gradients_FrozenBatchNormAfterConvAndAfterGemm_MatchFiniteDifferences(int size, long stride)
    {
        // Frozen BN over a 4-D and a 2-D input (BN after a Gemm once failed: its rule assumed N×C×H×W). Without batch
        // statistics the conv gradients here are ~1e-4, near the resolution of a float32 central difference
        // (ulp of the loss / 2ε ≈ 1e-5), hence the absolute floor.
        CheckAll(ConvBn(size, stride), size, ["scale", "conv.w", "bn.scale", "bn.bias", "fc.w", "bn1d.scale", "bn1d.bias", "out.w"],
            inputShape: [4, 2, size, size], every: 2, fractionOfLargest: 5e-3, batchNorm: BatchNormMode.Frozen, floor: 2e-5);
    }

    [Fact]
    public void RunningStatistics_OneStep_UpdatedWithMomentumAndUnbiasedVariance()
    {
        var model = ConvBn(6, 1);
        using var session = TrainingSession.Create(model, new TrainingSpec { Trainable = ["*"], BatchNorm = BatchNormMode.Train });
        Assert.Equal(["bn.mean", "bn.var", "bn1d.mean", "bn1d.var"], session.Graph.RunningStatistics.Order(StringComparer.Ordinal));
        Assert.Equal([0.05f, -0.1f, 0.2f], session.Parameter("bn.mean").ToArray());

        var input = Random(5 * 2 * 36, 95);
        using var x = Tensor<float>.FromSpan(input, 5, 2, 6, 6);
        using var y = Tensor<long>.FromSpan([0L, 1L, 2L, 0L, 1L], 5);

        // The convolution output (before the first BN) as a plain inference model gives the batch statistics.
        session.Step(x, y, 0f);
        using var convOnly = InferenceSession.FromBytes(TruncateAt(model, "c").ToBytes());
        using var result = convOnly.Run(x);
        var c = result[0].Value.As<float>().ToArray();
        const int m = 5 * 36;
        for (var ch = 0; ch < 3; ch++)
        {
            var values = Enumerable.Range(0, 5).SelectMany(n => c.Skip(((n * 3) + ch) * 36).Take(36)).Select(v => (double)v).ToArray();
            var mean = values.Average();
            var unbiased = values.Sum(v => (v - mean) * (v - mean)) / (m - 1);
            var oldMean = new[] { 0.05, -0.1, 0.2 }[ch];
            var oldVar = new[] { 0.9, 1.3, 0.7 }[ch];
            Assert.Equal((0.8 * oldMean) + (0.2 * mean), session.Parameter("bn.mean")[ch], 5);
            Assert.Equal((0.8 * oldVar) + (0.2 * unbiased), session.Parameter("bn.var")[ch], 5);
        }

        // The exported inference model carries the new running statistics.
        var exported = session.ExportInference();
        var stored = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(exported.Graph.Initializer.First(t => t.Name == "bn.var").RawData.Span).ToArray();
        Assert.Equal(session.Parameter("bn.var").ToArray(), stored);
    }

    [Fact]
    public void Checkpoint_TrainingModeBatchNorm_RestoresRunningStatistics()
    {
        var model = ConvBn(6, 1);
        var spec = new TrainingSpec { Trainable = ["*"], BatchNorm = BatchNormMode.Train, Momentum = 0.9f };
        using var dir = new TempDir();
        using var x = Tensor<float>.FromSpan(Random(4 * 2 * 36, 96), 4, 2, 6, 6);
        using var y = Tensor<long>.FromSpan([0L, 1L, 2L, 0L], 4);
        using var a = TrainingSession.Create(model, spec);
        a.Step(x, y, 0.1f);
        a.SaveCheckpoint(Path.Combine(dir.Path, "c.onnx"));
        var expected = a.Step(x, y, 0.1f).Loss;
        using var b = TrainingSession.Create(model, spec);
        b.LoadCheckpoint(Path.Combine(dir.Path, "c.onnx"));
        Assert.Equal(a.Parameter("bn1d.mean").ToArray().Length, b.Parameter("bn1d.mean").Length);
        Assert.Equal(expected, b.Step(x, y, 0.1f).Loss);
        Assert.Equal(a.Parameter("bn1d.var").ToArray(), b.Parameter("bn1d.var").ToArray());
    }

    private static OnnxModel TruncateAt(OnnxModel model, string tensor)
    {
        var copy = model.Clone();
        copy.Graph.Output.Clear();
        copy.Graph.Output.Add(new ValueInfoProto { Name = tensor, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)F } } });
        return copy;
    }
}

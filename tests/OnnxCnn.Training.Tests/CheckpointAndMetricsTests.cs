using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

public class CheckpointAndMetricsTests
{
    private static (Tensor<float> X, Tensor<long> Y)[] Batches()
    {
        var dir = RepoPaths.Fixture("training", "small_mlp_adam");
        return Enumerable.Range(0, 6).Select(k => (Npy.Read(Path.Combine(dir, $"batch_{k}.input.npy")).As<float>(), Npy.Read(Path.Combine(dir, $"batch_{k}.labels.npy")).As<long>())).ToArray();
    }

    private static OnnxModel Model() => OnnxModel.Load(RepoPaths.Fixture("training", "small_mlp_adam", "model.onnx"));

    [Fact]
    public void Resume_FromCheckpoint_ReproducesUninterruptedLossesExactly()
    {
        var batches = Batches();
        var spec = new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.Adam };
        using var dir = new TempDir();
        var uninterrupted = new List<float>();
        using (var session = TrainingSession.Create(Model(), spec))
        {
            for (var k = 0; k < 6; k++)
            {
                uninterrupted.Add(session.Step(batches[k].X, batches[k].Y, 0.01f).Loss);
                if (k == 2)
                {
                    session.SaveCheckpoint(dir.File("ckpt.onnx"), new Dictionary<string, string> { ["epoch"] = "1" });
                }
            }
        }

        using var resumed = TrainingSession.Create(Model(), spec);
        var meta = resumed.LoadCheckpoint(dir.File("ckpt.onnx"));
        Assert.Equal("1", meta["epoch"]);
        Assert.Equal(3, resumed.StepCount);
        for (var k = 3; k < 6; k++)
        {
            Assert.Equal(uninterrupted[k], resumed.Step(batches[k].X, batches[k].Y, 0.01f).Loss);
        }

        foreach (var (x, y) in batches)
        {
            x.Dispose();
            y.Dispose();
        }
    }

    [Fact]
    public void Checkpoint_FromAnotherSetup_IsRefusedByName()
    {
        using var dir = new TempDir();
        using (var session = TrainingSession.Create(Model(), new TrainingSpec { Trainable = ["*"] }))
        {
            session.SaveCheckpoint(dir.File("sgd.onnx"));
        }

        using var adam = TrainingSession.Create(Model(), new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.Adam });
        var e = Assert.Throws<InvalidDataException>(() => adam.LoadCheckpoint(dir.File("sgd.onnx")));
        Assert.StartsWith($"checkpoint '{dir.File("sgd.onnx")}' has no 'fc1.bias.adam_m'", e.Message);
    }

    [Fact]
    public void NanGuard_StopsAndKeepsTheLastFiniteParameters()
    {
        var batches = Batches();
        using var session = TrainingSession.Create(Model(), new TrainingSpec { Trainable = ["*"] });
        float[]? before = null;
        ArithmeticException? stop = null;
        for (var i = 0; i < 20 && stop is null; i++)
        {
            before = session.Parameter("fc2.weight").ToArray();
            try
            {
                session.Step(batches[i % 6].X, batches[i % 6].Y, 1e30f);
            }
            catch (ArithmeticException e)
            {
                stop = e;
            }
        }

        Assert.NotNull(stop);
        Assert.Contains("the loss became", stop.Message);
        Assert.Equal(before, session.Parameter("fc2.weight").ToArray());
    }

    [Fact]
    public void Metrics_HandComputedCase()
    {
        // true: 0 0 0 1 1 2 ; predicted: 0 0 1 1 2 2
        var m = ClassificationMetrics.FromPredictions([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2], ["a", "b", "c"]);
        Assert.Equal(4.0 / 6, m.Accuracy, 1e-12);
        Assert.Equal((1.0, 2.0 / 3, 0.8, 3), (m.PerClass[0].Precision, m.PerClass[0].Recall, m.PerClass[0].F1, m.PerClass[0].Support));
        Assert.Equal((0.5, 0.5, 0.5), (m.PerClass[1].Precision, m.PerClass[1].Recall, m.PerClass[1].F1));
        Assert.Equal((0.5, 1.0), (m.PerClass[2].Precision, m.PerClass[2].Recall));
        Assert.Equal((0.8 + 0.5 + (2.0 / 3)) / 3, m.MacroF1, 1e-12);
        Assert.Equal(1, m.Confusion[1, 2]);
    }

    [Fact]
    public void Metrics_TopK_FromScores()
    {
        float[] scores = [0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f];
        var m = ClassificationMetrics.FromScores(scores, [2, 1], ["a", "b", "c"], k: 2);
        Assert.Equal(0, m.Accuracy);
        Assert.Equal(1.0, m.TopKAccuracy);
    }

    [Fact]
    public void Smooth_IsExponentialMovingAverage()
    {
        Assert.Equal([1.0, 1.2, 1.56], ClassificationMetrics.Smooth([1, 2, 3], 0.8).Select(v => Math.Round(v, 10)));
    }
}

public class WeightedLossTests
{
    [Fact]
    public void WeightedCrossEntropy_EqualsPyTorchFormula()
    {
        var b = new ModelBuilder()
            .Input("x", Graphs.Proto.TensorProto.Types.DataType.Float, "N", 3)
            .Initializer("w", [1f, 0, 0, 0, 1, 0, 0, 0, 1], 3, 3)
            .Node("Gemm", ["x", "w"], ["logits"], ModelBuilder.Int("transB", 1))
            .Output("logits", Graphs.Proto.TensorProto.Types.DataType.Float, "N", 3);
        float[] weights = [0.5f, 2f, 1f];
        float[] x = [1f, 2f, 0.5f, -1f, 0.3f, 2f, 0.2f, 0.1f, 0f];
        long[] labels = [0, 2, 1];
        using var session = TrainingSession.Create(OnnxModel.Load(b.ToBytes()), new TrainingSpec { Trainable = ["*"], ClassWeights = weights });
        using var xt = Tensor<float>.FromSpan(x, 3, 3);
        using var yt = Tensor<long>.FromSpan(labels, 3);
        var loss = session.Step(xt, yt, 0f).Loss;
        double num = 0, den = 0;
        for (var n = 0; n < 3; n++)
        {
            var row = x.Skip(n * 3).Take(3).Select(v => (double)v).ToArray();
            var logSum = Math.Log(row.Sum(Math.Exp));
            num += weights[labels[n]] * (logSum - row[labels[n]]);
            den += weights[labels[n]];
        }

        Assert.Equal(num / den, loss, 1e-5);
    }
}

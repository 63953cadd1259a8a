using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>Training steps compiled to ONNX against PyTorch autograd + torch.optim (tests/fixtures/training/generate_training.py).</summary>
public class PyTorchParityTests
{
    [Theory]
    [InlineData("small_cnn")]
    [InlineData("small_mlp_adam")]
    [InlineData("resnet_bn_train_sgd")]
    [InlineData("resnet_bn_train_adam")]
    public void Training_SixSteps_LossesGradientsAndWeightsMatchPyTorch(string name)
    {
        var dir = RepoPaths.Fixture("training", name);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "case.json")));
        var c = json.RootElement;
        var optimizer = c.GetProperty("optimizer").GetString() == "sgd" ? OptimizerKind.Sgd : OptimizerKind.Adam;
        var spec = new TrainingSpec
        {
            Trainable = ["*"],
            Optimizer = optimizer,
            Momentum = optimizer == OptimizerKind.Sgd ? c.GetProperty("momentum").GetSingle() : 0,
            ExposeGradients = true,
            BatchNorm = c.TryGetProperty("batchnorm", out var bn) && bn.GetString() == "train" ? BatchNormMode.Train : BatchNormMode.Frozen,
        };
        var lr = c.GetProperty("lr").GetSingle();
        using var session = TrainingSession.Create(OnnxModel.Load(Path.Combine(dir, "model.onnx")), spec);
        var expectedLosses = Load(Path.Combine(dir, "losses.npy"));
        for (var k = 0; k < c.GetProperty("steps").GetInt32(); k++)
        {
            using var input = Npy.Read(Path.Combine(dir, $"batch_{k}.input.npy"));
            using var labels = Npy.Read(Path.Combine(dir, $"batch_{k}.labels.npy"));
            var step = session.Step(input.As<float>(), labels.As<long>(), lr);
            var loss = step.Loss;
            Assert.True(Math.Abs(loss - expectedLosses[k]) <= 1e-4 * Math.Abs(expectedLosses[k]), $"step {k}: loss {loss}, PyTorch {expectedLosses[k]}");
            if (k == 0)
            {
                foreach (var p in session.Graph.Parameters)
                {
                    AssertClose($"grad0 {p}", Load(Path.Combine(dir, $"grad0.{p}.npy")), step.Gradients[p].ToArray(), 1e-4);
                }
            }
        }

        foreach (var p in session.Graph.Parameters)
        {
            AssertClose($"final {p}", Load(Path.Combine(dir, $"final.{p}.npy")), session.Parameter(p).ToArray(), 1e-3);
        }

        // Training-mode BatchNorm: the running statistics follow PyTorch's too.
        var buffers = c.TryGetProperty("buffers", out var b) ? b.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];
        Assert.Equal(buffers.Order(StringComparer.Ordinal), session.Graph.RunningStatistics.Order(StringComparer.Ordinal));
        foreach (var s in buffers)
        {
            AssertClose($"final {s}", Load(Path.Combine(dir, $"final.{s}.npy")), session.Parameter(s).ToArray(), 1e-3);
        }

        // The exported inference model carries the trained weights.
        var exported = session.ExportInference();
        var init = exported.Graph.Initializer.First(t => t.Name == session.Graph.Parameters[0]);
        AssertClose("exported", Load(Path.Combine(dir, $"final.{session.Graph.Parameters[0]}.npy")),
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(init.RawData.Span).ToArray(), 1e-3);
    }

    internal static float[] Load(string path)
    {
        using var t = Npy.Read(path);
        return t switch
        {
            Tensor<float> f => f.ToArray(),
            Tensor<double> d => d.ToArray().Select(v => (float)v).ToArray(),
            _ => throw new InvalidDataException(path),
        };
    }

    /// <summary>Each value within <paramref name="relative"/> of the array's largest magnitude.</summary>
    internal static void AssertClose(string what, float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(expected.Max(Math.Abs), 1e-6f);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"{what}[{i}]: {actual[i]} vs expected {expected[i]} (scale {scale})");
        }
    }
}

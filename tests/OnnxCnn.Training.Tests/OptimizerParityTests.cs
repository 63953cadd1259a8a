using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>RMSprop, clipping, BCE and per-group learning rates against torch.optim (tests/fixtures/training/generate_optim.py).</summary>
public class OptimizerParityTests
{
    [Theory]
    [InlineData("optim_rmsprop_clip")]
    [InlineData("optim_bce_sgd")]
    [InlineData("optim_bce_weighted")]
    public void Training_SixSteps_LossesAndWeightsMatchPyTorch(string name)
    {
        var dir = RepoPaths.Fixture("training", name);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "case.json")));
        var c = json.RootElement;
        float F(string key, float fallback = 0) => c.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
        bool B(string key) => c.TryGetProperty(key, out var v) && v.GetBoolean();
        var spec = new TrainingSpec
        {
            Trainable = ["*"],
            Optimizer = c.GetProperty("optimizer").GetString() switch { "sgd" => OptimizerKind.Sgd, "rmsprop" => OptimizerKind.RmsProp, var o => throw new InvalidDataException(o) },
            Momentum = F("momentum"),
            Nesterov = B("nesterov"),
            Alpha = F("alpha", 0.99f),
            Epsilon = F("eps", 1e-8f),
            Centered = B("centered"),
            WeightDecay = F("weightDecay"),
            ClipGradNorm = F("clipGradNorm"),
            Loss = c.GetProperty("loss").GetString() == "bce" ? LossKind.SigmoidBinaryCrossEntropy : LossKind.SoftmaxCrossEntropy,
            PositiveWeight = F("posWeight", 1),
            LabelSmoothing = F("labelSmoothing"),
            ClassWeights = c.TryGetProperty("classWeights", out var w) ? [.. w.EnumerateArray().Select(v => v.GetSingle())] : null,
            LearningRateGroups = c.TryGetProperty("groups", out var groups)
                ? [.. groups.EnumerateArray().Select(g => new LearningRateGroup(g.GetProperty("name").GetString()!, [.. g.GetProperty("globs").EnumerateArray().Select(x => x.GetString()!)], g.GetProperty("multiplier").GetSingle()))]
                : [],
            ExposeGradients = true,
        };
        var lr = c.GetProperty("lr").GetSingle();
        using var session = TrainingSession.Create(OnnxModel.Load(Path.Combine(dir, "model.onnx")), spec);
        var expectedLosses = Load(Path.Combine(dir, "losses.npy"));
        var norms = Load(Path.Combine(dir, "norms.npy"));
        for (var k = 0; k < c.GetProperty("steps").GetInt32(); k++)
        {
            using var input = Npy.Read(Path.Combine(dir, $"batch_{k}.input.npy"));
            using var labels = Npy.Read(Path.Combine(dir, $"batch_{k}.labels.npy"));
            var step = session.Step(input.As<float>(), labels.As<long>(), lr);
            var loss = step.Loss;
            Assert.True(Math.Abs(loss - expectedLosses[k]) <= 1e-4 * Math.Abs(expectedLosses[k]), $"step {k}: loss {loss}, PyTorch {expectedLosses[k]}");

            // The gradients are exposed before clipping: their global norm is the one clip_grad_norm_ returned.
            var norm = Math.Sqrt(step.Gradients.Values.Sum(g => g.ToArray().Sum(v => (double)v * v)));
            if (spec.ClipGradNorm > 0)
            {
                Assert.True(Math.Abs(norm - norms[k]) <= 1e-4 * norms[k], $"step {k}: gradient norm {norm}, PyTorch {norms[k]}");
            }

            if (k == 0)
            {
                foreach (var p in session.Graph.Parameters)
                {
                    PyTorchParityTests.AssertClose($"grad0 {p}", Load(Path.Combine(dir, $"grad0.{p}.npy")), step.Gradients[p].ToArray(), 1e-4);
                }
            }
        }

        if (spec.ClipGradNorm > 0)
        {
            // The fixture exercises both sides of the clip.
            Assert.Contains(norms, n => n > spec.ClipGradNorm);
            Assert.Contains(norms, n => n < spec.ClipGradNorm);
        }

        foreach (var p in session.Graph.Parameters)
        {
            PyTorchParityTests.AssertClose($"final {p}", Load(Path.Combine(dir, $"final.{p}.npy")), session.Parameter(p).ToArray(), 1e-3);
        }
    }

    private static float[] Load(string path)
    {
        using var t = Npy.Read(path);
        return t switch
        {
            Tensor<float> f => f.ToArray(),
            Tensor<double> d => d.ToArray().Select(v => (float)v).ToArray(),
            _ => throw new InvalidDataException(path),
        };
    }
}

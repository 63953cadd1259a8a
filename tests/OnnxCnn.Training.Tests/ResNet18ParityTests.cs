using System.Text.Json;
using Google.Protobuf;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using Xunit.Abstractions;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// Fine-tuning a head-rewritten torchvision ResNet-18 (layer4 + new head, SGD with momentum) against PyTorch autograd
/// on the same graph and batches (tests/fixtures/training/generate_resnet18_parity.py). The narrow copy (widths / 16,
/// same module names and ops) is committed; the full 224×224 model runs too once `--full` has generated it.
/// </summary>
public class ResNet18ParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string> { RepoPaths.Fixture("training", "resnet18_narrow") };
        var full = RepoPaths.Fixture("generated", "training", "resnet18_parity");
        if (File.Exists(Path.Combine(full, "case.json")))
        {
            data.Add(full);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FineTune_EightSgdMomentumSteps_LossesWeightsAndExportedLogitsMatchPyTorch(string dir)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "case.json")));
        var c = json.RootElement;
        int steps = c.GetProperty("steps").GetInt32(), n = c.GetProperty("batch").GetInt32(), size = c.GetProperty("size").GetInt32();
        var classes = c.GetProperty("classes").GetInt32();

        // At 224² one pre-ReLU element of layer4.0's output (channel 292) lies within 1e-5 of zero, so its mask is decided
        // by float rounding: PyTorch's own float32 step-0 gradients differ from its float64 ones by 3.1e-2 of the largest
        // (layer4.0.conv2.weight; measured with the generator's model). Step-0 gradients of the full model are therefore
        // compared loosely; the narrow model has no such element (agreement ~1e-5). Losses, weights: same bound for both.
        var full = c.GetProperty("widthDivisor").GetInt32() == 1;
        double gradientTolerance = full ? 6e-2 : 1e-4, logitTolerance = full ? 5e-3 : 1e-4;

        // OnnxCnn rewrites the head; its random init is replaced by the one PyTorch used.
        var model = HeadEdits.Replace(OnnxModel.Load(Path.Combine(dir, "model.onnx")), new HeadSpec { Classes = classes, Seed = 0 });
        foreach (var name in new[] { "head.0.weight", "head.0.bias" })
        {
            var init = model.Graph.Initializer.Single(t => t.Name == name);
            var values = PyTorchParityTests.Load(Path.Combine(dir, name + ".npy"));
            Assert.Equal(init.Dims.Aggregate(1L, (a, b) => a * b), values.Length);
            init.FloatData.Clear();
            init.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }

        var spec = new TrainingSpec
        {
            Trainable = [.. c.GetProperty("trainable").EnumerateArray().Select(e => e.GetString()!)],
            Momentum = c.GetProperty("momentum").GetSingle(),
            ExposeGradients = true,
        };
        using var session = TrainingSession.Create(model, spec);
        Assert.StartsWith("/layer3/", session.Graph.Input, StringComparison.Ordinal);
        var expected = PyTorchParityTests.Load(Path.Combine(dir, "losses.npy"));
        var lr = c.GetProperty("lr").GetSingle();
        for (var k = 0; k < steps; k++)
        {
            var (x, y) = Batch(k, n, size, classes);
            using (x)
            using (y)
            {
                var step = session.Step(x, y, lr);
                var loss = step.Loss;
                output.WriteLine($"step {k}: loss {loss:R} PyTorch {expected[k]:R} relative {Math.Abs(loss - expected[k]) / Math.Abs(expected[k]):E2}");
                if (k == 0)
                {
                    var worstGradient = 0.0;
                    foreach (var p in session.Graph.Parameters)
                    {
                        var reference = PyTorchParityTests.Load(Path.Combine(dir, $"grad0.{p}.npy"));
                        worstGradient = Math.Max(worstGradient, Relative(reference, step.Gradients[p].ToArray()));
                        output.WriteLine($"  grad0 {p}: {Relative(reference, step.Gradients[p].ToArray()):E2}");
                    }

                    foreach (var p in session.Graph.Parameters)
                    {
                        PyTorchParityTests.AssertClose($"grad0 {p}", PyTorchParityTests.Load(Path.Combine(dir, $"grad0.{p}.npy")), step.Gradients[p].ToArray(), gradientTolerance);
                    }

                    output.WriteLine($"step 0 gradients: worst |Δ| / max|g| {worstGradient:E2}");
                }

                Assert.True(Math.Abs(loss - expected[k]) <= 2e-3 * Math.Abs(expected[k]), $"step {k}: loss {loss}, PyTorch {expected[k]}");
            }
        }

        var worst = 0.0;
        foreach (var p in session.Graph.Parameters)
        {
            worst = Math.Max(worst, Relative(PyTorchParityTests.Load(Path.Combine(dir, $"final.{p}.npy")), session.Parameter(p).ToArray()));
            PyTorchParityTests.AssertClose($"final {p}", PyTorchParityTests.Load(Path.Combine(dir, $"final.{p}.npy")), session.Parameter(p).ToArray(), 2e-3);
        }

        Assert.Equal(Directory.GetFiles(dir, "final.*.npy").Length, session.Graph.Parameters.Count);

        // The exported inference model (original graph, trained weights substituted) gives the step graph's own
        // forward exactly, and PyTorch's final logits up to the drift of the weights (float summation order in
        // 8 steps: ~1e-3 of the largest weight at 224², amplified through layer4 to a few 1e-3 of the largest logit).
        using var inference = InferenceSession.FromBytes(session.ExportInference().ToBytes());
        var (evalX, evalY) = Batch(steps, n, size, classes);
        using (evalX)
        using (evalY)
        using (var result = inference.Run(evalX))
        {
            var logits = result.First<float>().ToArray();
            var reference = PyTorchParityTests.Load(Path.Combine(dir, "eval_logits.npy"));
            output.WriteLine($"final weights: worst |Δ| / max|w| {worst:E2}; exported logits vs PyTorch {Relative(reference, logits):E2}");
            PyTorchParityTests.AssertClose("exported logits vs PyTorch", reference, logits, logitTolerance);
            var evalStep = session.Step(evalX, evalY, 0f);
            PyTorchParityTests.AssertClose("exported logits vs the step graph", evalStep.Logits.ToArray(), logits, 1e-5);
        }
    }

    private static double Relative(float[] expected, float[] actual) =>
        expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max() / Math.Max(expected.Max(Math.Abs), 1e-6f);

    /// <summary>The generator's batch formula: x[j] = 2·sin(0.37·j + 1.3·k) over the flat index, labels (3i + k) mod classes.</summary>
    private static (Tensor<float> X, Tensor<long> Y) Batch(int k, int n, int size, int classes)
    {
        var x = Tensor<float>.Create(n, 3, size, size);
        var span = x.Span;
        for (var j = 0; j < span.Length; j++)
        {
            span[j] = (float)(2.0 * Math.Sin((0.37 * j) + (1.3 * k)));
        }

        return (x, Tensor<long>.FromSpan(Enumerable.Range(0, n).Select(i => (long)(((3 * i) + k) % classes)).ToArray(), n));
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Training.Tests;

/// <summary>Dropout active while training: inverted-dropout masks computed in the graph from (seed, step).</summary>
public class DropoutTrainingTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;
    private const int Batch = 64;
    private const int Width = 50;

    /// <summary>logits = Dropout(x·w): with x and w all ones the logits are the scaled mask itself.</summary>
    private static OnnxModel Model(float ratio) => OnnxModel.Load(new ModelBuilder()
        .Input("x", F, "N", Width)
        .Initializer("w", Enumerable.Repeat(1f, Width).ToArray(), 1, Width)
        .Initializer("ratio", [ratio])
        .Node("Mul", ["x", "w"], ["h"])
        .Node("Dropout", ["h", "ratio"], ["logits"])
        .Output("logits", F, "N", Width)
        .ToBytes());

    private static (float Loss, float[] Logits, float[] Gradient) Step(TrainingSession session, float lr = 0f)
    {
        using var x = Tensor<float>.Filled(1f, Batch, Width);
        using var y = Tensor<long>.FromSpan(Enumerable.Range(0, Batch).Select(i => (long)(i % Width)).ToArray(), Batch);
        var step = session.Step(x, y, lr);
        return (step.Loss, step.Logits.ToArray(), step.Gradients.TryGetValue("w", out var g) ? g.ToArray() : []);
    }

    [Fact]
    public void Dropout_Training_DropsAboutRatioAndScalesTheRest()
    {
        using var session = TrainingSession.Create(Model(0.3f), new TrainingSpec { Trainable = ["*"] });
        var (_, logits, _) = Step(session);
        var dropped = logits.Count(v => v == 0f) / (double)logits.Length;
        Assert.InRange(dropped, 0.27, 0.33);
        Assert.All(logits.Where(v => v != 0f), v => Assert.Equal(1f / 0.7f, v, 6));

        // Neighbouring elements are independent: both dropped about p² of the time.
        var pairs = Enumerable.Range(0, logits.Length - 1).Count(i => logits[i] == 0f && logits[i + 1] == 0f) / (double)(logits.Length - 1);
        Assert.InRange(pairs, 0.09 - 0.025, 0.09 + 0.025);
    }

    [Fact]
    public void Dropout_Rewritten_LeavesNoUnusedRatioBehind()
    {
        var graph = TrainingCompiler.Compile(Model(0.3f), new TrainingSpec { Trainable = ["w"] });
        var step = graph.Step.Graph;
        Assert.DoesNotContain(step.Node, n => n.OpType == "Dropout");
        Assert.DoesNotContain(step.Initializer, t => t.Name == "ratio");
        var used = step.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        Assert.All(step.Initializer, t => Assert.Contains(t.Name, used));
    }

    [Fact]
    public void Dropout_Gradient_MaskedLikeTheForward()
    {
        using var session = TrainingSession.Create(Model(0.5f), new TrainingSpec { Trainable = ["*"], ExposeGradients = true });
        var (_, logits, gradient) = Step(session);

        // dL/dlogits = (softmax − onehot)/N; dlogits/dw[j] = mask[n, j]·x = logits[n, j] here.
        var expected = new double[Width];
        for (var n = 0; n < Batch; n++)
        {
            var row = logits.AsSpan(n * Width, Width).ToArray();
            var max = row.Max();
            var sum = row.Sum(v => Math.Exp(v - max));
            for (var j = 0; j < Width; j++)
            {
                var d = (Math.Exp(row[j] - max) / sum) - (j == n % Width ? 1 : 0);
                expected[j] += d / Batch * row[j];
            }
        }

        for (var j = 0; j < Width; j++)
        {
            Assert.True(Math.Abs(expected[j] - gradient[j]) <= 1e-5, $"w[{j}]: {gradient[j]} vs {expected[j]}");
        }
    }

    [Fact]
    public void Dropout_Masks_DependOnSeedAndStepOnly()
    {
        var spec = new TrainingSpec { Trainable = ["*"], DropoutSeed = 7 };
        using var a = TrainingSession.Create(Model(0.4f), spec);
        using var b = TrainingSession.Create(Model(0.4f), spec);
        using var other = TrainingSession.Create(Model(0.4f), new TrainingSpec { Trainable = ["*"], DropoutSeed = 8 });
        var a1 = Step(a).Logits;
        Assert.Equal(a1, Step(b).Logits);
        Assert.NotEqual(a1, Step(other).Logits);
        var a2 = Step(a).Logits;
        Assert.NotEqual(a1, a2);

        // A session resumed at step 1 draws step 2's mask.
        using var dir = new TempDir();
        b.SaveCheckpoint(dir.File("c.onnx"));
        using var resumed = TrainingSession.Create(Model(0.4f), spec);
        resumed.LoadCheckpoint(dir.File("c.onnx"));
        Assert.Equal(a2, Step(resumed).Logits);
    }

    [Fact]
    public void Dropout_SwitchedOff_IsTheIdentity()
    {
        using var session = TrainingSession.Create(Model(0.4f), new TrainingSpec { Trainable = ["*"], Dropout = false });
        Assert.All(Step(session).Logits, v => Assert.Equal(1f, v));
    }
}

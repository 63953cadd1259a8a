using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// The bound step (carried tensors in two alternating sets bound once) against the fed step
/// (carried tensors fed in and copied back): same graph, same inputs, so bitwise the same numbers.
/// "Mirrored" runs the bound path with host reads and writes going through the transfer session,
/// as they do when the sets live on a GPU.
/// </summary>
public class BoundStepTests
{
    public enum StateAccess
    {
        Direct,
        Mirrored,
    }

    private static TrainingSession Open(OnnxModel model, TrainingSpec spec, StateAccess path) =>
        TrainingSession.Create(model, spec, null, StepExecution.Bound, mirrorOnHost: path == StateAccess.Mirrored);

    private static (Tensor<float> X, Tensor<long> Y)[] Batches(int count, int size = 6)
    {
        return Enumerable.Range(0, count).Select(k => (
            Tensor<float>.FromSpan(Random(5 * 2 * size * size, 200 + k), 5, 2, size, size),
            Tensor<long>.FromSpan(Enumerable.Range(0, 5).Select(i => (long)((i + k) % 3)).ToArray(), 5))).ToArray();
    }

    private static Dictionary<string, float[]> Carried(TrainingSession session) =>
        session.Graph.Parameters.Concat(session.Graph.RunningStatistics).Concat(session.Graph.State)
            .ToDictionary(n => n, n => session.Parameter(n).ToArray(), StringComparer.Ordinal);

    private static void AssertBitwiseEqual(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, values) in expected)
        {
            // Compare bit patterns: NaN == NaN and -0 != +0, nothing within a tolerance.
            Assert.True(values.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual[name].Select(BitConverter.SingleToInt32Bits)), $"'{name}' differs");
        }
    }

    public static TheoryData<OptimizerKind, float, StateAccess> Optimizers() => new()
    {
        { OptimizerKind.Sgd, 0.9f, StateAccess.Direct },
        { OptimizerKind.Sgd, 0.9f, StateAccess.Mirrored },
        { OptimizerKind.Adam, 0f, StateAccess.Direct },
        { OptimizerKind.Adam, 0f, StateAccess.Mirrored },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void BoundStep_BatchNormTrainMode_EqualsFedStepBitwise(OptimizerKind optimizer, float momentum, StateAccess path)
    {
        var model = BatchNormTrainingTests.ConvBn(6, 1);
        var spec = new TrainingSpec { Trainable = ["*"], Optimizer = optimizer, Momentum = momentum, Nesterov = momentum > 0, WeightDecay = 1e-3f, BatchNorm = BatchNormMode.Train };
        var batches = Batches(5);
        using var fed = TrainingSession.Create(model, spec, null, StepExecution.Feeds);
        using var bound = Open(model, spec, path);
        Assert.Equal(StepExecution.Feeds, fed.Execution);
        Assert.Equal(StepExecution.Bound, bound.Execution);
        Assert.Contains("bn.mean", bound.Graph.RunningStatistics);
        Assert.NotEmpty(bound.Graph.State);
        for (var k = 0; k < batches.Length; k++)
        {
            var rate = 0.05f / (k + 1);
            var expected = fed.Step(batches[k].X, batches[k].Y, rate);
            var actual = bound.Step(batches[k].X, batches[k].Y, rate);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected.Loss), BitConverter.SingleToInt32Bits(actual.Loss));
            Assert.Equal(expected.Logits.ToArray(), actual.Logits.ToArray());
            Assert.Equal(expected.LogitsShape, actual.LogitsShape);
            AssertBitwiseEqual(Carried(fed), Carried(bound));
        }

        Assert.Equal(5, bound.StepCount);
        Assert.Equal(fed.ExportInference().ToBytes(), bound.ExportInference().ToBytes());
    }

    [Theory]
    [InlineData(StateAccess.Direct)]
    [InlineData(StateAccess.Mirrored)]
    public void BoundStep_FrozenPrefixAndGroupRates_EqualsFedStepBitwise(StateAccess path)
    {
        // Only the layers after the pooling train: the prefix runs through its own binding, and the
        // two parameter groups take their rates as inputs re-bound every step.
        var model = BatchNormTrainingTests.ConvBn(7, 2);
        var spec = new TrainingSpec
        {
            Trainable = ["fc.w", "bn1d.scale", "bn1d.bias", "out.w"],
            Momentum = 0.9f,
            BatchNorm = BatchNormMode.Train,
            LearningRateGroups = [new LearningRateGroup("head", ["out.w"], 2f)],
            ExposeGradients = true,
        };
        var batches = Batches(4, 7);
        using var fed = TrainingSession.Create(model, spec, null, StepExecution.Feeds);
        using var bound = Open(model, spec, path);
        Assert.True(bound.HasPrefix);
        fed.GroupLearningRates["head"] = bound.GroupLearningRates["head"] = 0.3f;
        for (var k = 0; k < batches.Length; k++)
        {
            var fedStep = fed.Step(batches[k].X, batches[k].Y, 0.1f);
            var boundStep = bound.Step(batches[k].X, batches[k].Y, 0.1f);
            Assert.Equal(fedStep.Loss, boundStep.Loss);
            AssertBitwiseEqual(fedStep.Gradients.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), boundStep.Gradients.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
            AssertBitwiseEqual(Carried(fed), Carried(bound));
            using var features = bound.Features(batches[k].X);
            Assert.Equal(fed.StepOnFeatures(features, batches[k].Y, 0.1f).Loss, bound.StepOnFeatures(features, batches[k].Y, 0.1f).Loss);
        }

        AssertBitwiseEqual(Carried(fed), Carried(bound));
    }

    [Fact]
    public void BoundStep_BatchSizeChanges_EqualsFedStepBitwise()
    {
        // A smaller last batch: host outputs and the prefix output are re-bound unallocated each step.
        var model = BatchNormTrainingTests.ConvBn(7, 2);
        var spec = new TrainingSpec { Trainable = ["fc.w", "bn1d.scale", "bn1d.bias", "out.w"], Momentum = 0.9f, BatchNorm = BatchNormMode.Train, ExposeGradients = true };
        using var fed = TrainingSession.Create(model, spec, null, StepExecution.Feeds);
        using var bound = Open(model, spec, StateAccess.Direct);
        foreach (var n in new[] { 5, 3, 5, 2 })
        {
            using var x = Tensor<float>.FromSpan(Random(n * 2 * 49, 300 + n), n, 2, 7, 7);
            using var y = Tensor<long>.FromSpan(Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray(), n);
            var fedStep = fed.Step(x, y, 0.1f);
            var boundStep = bound.Step(x, y, 0.1f);
            Assert.Equal(fedStep.Loss, boundStep.Loss);
            Assert.Equal([n, 3L], boundStep.LogitsShape);
            Assert.Equal(fedStep.Logits.ToArray(), boundStep.Logits.ToArray());
            AssertBitwiseEqual(fedStep.Gradients.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), boundStep.Gradients.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
            AssertBitwiseEqual(Carried(fed), Carried(bound));
        }
    }

    [Theory]
    [InlineData(StateAccess.Direct)]
    [InlineData(StateAccess.Mirrored)]
    public void Parameter_AfterEachBoundStep_ReflectsThatStep(StateAccess path)
    {
        var model = BatchNormTrainingTests.ConvBn(6, 1);
        var spec = new TrainingSpec { Trainable = ["*"], Momentum = 0.9f, BatchNorm = BatchNormMode.Train };
        var batches = Batches(3);
        using var bound = Open(model, spec, path);
        var previous = bound.Parameter("conv.w").ToArray();
        var previousMean = bound.Parameter("bn.mean").ToArray();
        foreach (var (x, y) in batches)
        {
            bound.Step(x, y, 0.1f);
            var now = bound.Parameter("conv.w").ToArray();
            Assert.NotEqual(previous, now);
            Assert.NotEqual(previousMean, bound.Parameter("bn.mean").ToArray());

            // Reading again without a step gives the same values (a refreshed mirror stays fresh).
            Assert.Equal(now, bound.Parameter("conv.w").ToArray());
            previous = now;
            previousMean = bound.Parameter("bn.mean").ToArray();
        }
    }

    [Theory]
    [InlineData(StateAccess.Direct)]
    [InlineData(StateAccess.Mirrored)]
    public void NanGuard_BoundStep_KeepsTheCurrentSet(StateAccess path)
    {
        var model = BatchNormTrainingTests.ConvBn(6, 1);
        var spec = new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.Adam, BatchNorm = BatchNormMode.Train };
        var batches = Batches(2);
        using var bound = Open(model, spec, path);
        bound.Step(batches[0].X, batches[0].Y, 0.01f);
        var before = Carried(bound);

        // An input of +Inf makes the loss NaN; the updated set B is written but never made current.
        using var poisoned = Tensor<float>.Filled(float.PositiveInfinity, 5, 2, 6, 6);
        var e = Assert.Throws<ArithmeticException>(() => bound.Step(poisoned, batches[1].Y, 0.01f));
        Assert.Equal("the loss became NaN at step 2; parameters were left at their last finite values.", e.Message);
        Assert.Equal(1, bound.StepCount);
        AssertBitwiseEqual(before, Carried(bound));

        // Training goes on from set A as if the bad step never happened.
        using var fed = TrainingSession.Create(model, spec, null, StepExecution.Feeds);
        fed.Step(batches[0].X, batches[0].Y, 0.01f);
        Assert.Equal(fed.Step(batches[1].X, batches[1].Y, 0.01f).Loss, bound.Step(batches[1].X, batches[1].Y, 0.01f).Loss);
        AssertBitwiseEqual(Carried(fed), Carried(bound));
    }

    [Theory]
    [InlineData(StateAccess.Direct)]
    [InlineData(StateAccess.Mirrored)]
    public void Checkpoint_BoundPath_RoundTripsAndResumesExactly(StateAccess path)
    {
        var model = BatchNormTrainingTests.ConvBn(6, 1);
        var spec = new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01f, BatchNorm = BatchNormMode.Train };
        var batches = Batches(6);
        using var dir = new TempDir();
        var uninterrupted = new List<float>();
        Dictionary<string, float[]> final;
        using (var session = Open(model, spec, path))
        {
            for (var k = 0; k < 6; k++)
            {
                uninterrupted.Add(session.Step(batches[k].X, batches[k].Y, 0.02f).Loss);
                if (k == 2)
                {
                    session.SaveCheckpoint(dir.File("ckpt.onnx"));
                }
            }

            final = Carried(session);
        }

        // Loaded into a fed session and into a bound one (after the bound one took a step of its own,
        // so the checkpoint has to land in whichever set is current).
        using var fed = TrainingSession.Create(model, spec, null, StepExecution.Feeds);
        fed.LoadCheckpoint(dir.File("ckpt.onnx"));
        using var resumed = Open(model, spec, path);
        resumed.Step(batches[5].X, batches[5].Y, 0.5f);
        resumed.LoadCheckpoint(dir.File("ckpt.onnx"));
        Assert.Equal(3, resumed.StepCount);
        AssertBitwiseEqual(Carried(fed), Carried(resumed));
        for (var k = 3; k < 6; k++)
        {
            Assert.Equal(uninterrupted[k], resumed.Step(batches[k].X, batches[k].Y, 0.02f).Loss);
        }

        AssertBitwiseEqual(final, Carried(resumed));
    }

    [Fact]
    public void Checkpoint_RefusedInBoundPath_LeavesTheSessionUnchanged()
    {
        var model = BatchNormTrainingTests.ConvBn(6, 1);
        using var dir = new TempDir();
        var batches = Batches(1);
        using (var sgd = Open(model, new TrainingSpec { Trainable = ["*"], BatchNorm = BatchNormMode.Train }, StateAccess.Direct))
        {
            sgd.SaveCheckpoint(dir.File("sgd.onnx"));
        }

        using var adam = Open(model, new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.Adam, BatchNorm = BatchNormMode.Train }, StateAccess.Mirrored);
        adam.Step(batches[0].X, batches[0].Y, 0.1f);
        var before = Carried(adam);
        var e = Assert.Throws<InvalidDataException>(() => adam.LoadCheckpoint(dir.File("sgd.onnx")));
        Assert.StartsWith($"checkpoint '{dir.File("sgd.onnx")}' has no 'bn.bias.adam_m'", e.Message);
        AssertBitwiseEqual(before, Carried(adam));
        Assert.Equal(1, adam.StepCount);
    }

    [Fact]
    public void Create_AutoOnCpu_PicksTheMeasuredDefault()
    {
        using var session = TrainingSession.Create(BatchNormTrainingTests.ConvBn(6, 1), new TrainingSpec { Trainable = ["*"], BatchNorm = BatchNormMode.Train });
        Assert.Equal(TrainingSession.DefaultExecution, session.Execution);
        Assert.Equal(ExecutionDevice.Cpu, session.Device);
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>The eval graph: the trainable suffix's forward with loss and logits, parameters fed as inputs.</summary>
public class EvalGraphTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    private static OnnxModel Model() => OnnxModel.Load(new ModelBuilder()
        .Input("x", F, "N", 2, 6, 6)
        .Initializer("conv.w", Random(3 * 2 * 9, 101, 0.6f), 3, 2, 3, 3)
        .Initializer("bn.scale", [1.2f, 0.8f, 1.1f], 3)
        .Initializer("bn.bias", [0.1f, -0.2f, 0.05f], 3)
        .Initializer("bn.mean", [0.05f, -0.1f, 0.2f], 3)
        .Initializer("bn.var", [0.9f, 1.3f, 0.7f], 3)
        .Initializer("ratio", [0.5f])
        .Initializer("fc.w", Random(4 * 3, 102, 1f), 4, 3)
        .Node("Conv", ["x", "conv.w"], ["c"], Ints("pads", 1, 1, 1, 1))
        .Node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["n"])
        .Node("Relu", ["n"], ["r"])
        .Node("MaxPool", ["r"], ["m"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
        .Node("GlobalAveragePool", ["m"], ["g"])
        .Node("Flatten", ["g"], ["f"])
        .Node("Dropout", ["f", "ratio"], ["d"])
        .Node("Gemm", ["d", "fc.w"], ["logits"], Int("transB", 1))
        .Output("logits", F, "N", 4)
        .ToBytes());

    private static float EvalLoss(TrainingSession session, Tensor<float> x, Tensor<long> y)
    {
        using var eval = InferenceSession.FromBytes(session.Graph.Eval.ToBytes());
        var feeds = new List<KeyValuePair<string, Tensor>> { new(session.Graph.Input, x), new(TrainingGraph.LabelsInput, y) };
        var owned = session.Graph.Parameters.Concat(session.Graph.RunningStatistics)
            .Select(p => (p, Tensor<float>.FromSpan(session.Parameter(p), [.. session.Source.Graph.Initializer.First(t => t.Name == p).Dims]))).ToList();
        feeds.AddRange(owned.Select(o => new KeyValuePair<string, Tensor>(o.p, o.Item2)));
        using var result = eval.Run(feeds);
        var loss = result[TrainingGraph.LossOutput].As<float>()[0];
        foreach (var (_, t) in owned)
        {
            t.Dispose();
        }

        return loss;
    }

    [Fact]
    public void Eval_NothingStochastic_LossEqualsTheStepGraphs()
    {
        using var session = TrainingSession.Create(Model(), new TrainingSpec { Trainable = ["*"], Dropout = false, Momentum = 0.9f });
        using var x = Tensor<float>.FromSpan(Random(4 * 2 * 36, 103), 4, 2, 6, 6);
        using var y = Tensor<long>.FromSpan([0L, 1L, 2L, 3L], 4);
        session.Step(x, y, 0.1f);
        var evalLoss = EvalLoss(session, x, y);

        // The next step's loss is computed before its update, from the same parameters the eval graph was fed.
        Assert.Equal(session.Step(x, y, 0.1f).Loss, evalLoss, 6);
        Assert.DoesNotContain(session.Graph.Eval.Graph.Input, i => i.Name is TrainingGraph.LearningRateInput or TrainingGraph.StepInput);
        Assert.Equal([TrainingGraph.LossOutput, TrainingGraph.LogitsOutput], session.Graph.Eval.Graph.Output.Select(o => o.Name));
    }

    [Fact]
    public void Eval_TrainingModeBatchNormAndDropout_UsesRunningStatisticsAndNoDropout()
    {
        using var session = TrainingSession.Create(Model(), new TrainingSpec { Trainable = ["*"], BatchNorm = BatchNormMode.Train });
        using var x = Tensor<float>.FromSpan(Random(4 * 2 * 36, 104), 4, 2, 6, 6);
        using var y = Tensor<long>.FromSpan([0L, 1L, 2L, 3L], 4);
        session.Step(x, y, 0.1f);
        var evalLoss = EvalLoss(session, x, y);

        // The reference: the exported inference model (running statistics, inference dropout) and the loss computed here.
        using var inference = InferenceSession.FromBytes(session.ExportInference().ToBytes());
        using var result = inference.Run(x);
        var logits = result[0].Value.As<float>().ToArray();
        var expected = 0.0;
        for (var n = 0; n < 4; n++)
        {
            var row = logits.AsSpan(n * 4, 4).ToArray();
            var max = row.Max();
            expected -= row[(int)y.Span[n]] - max - Math.Log(row.Sum(v => Math.Exp(v - max)));
        }

        Assert.Equal(expected / 4, evalLoss, 5);
    }
}

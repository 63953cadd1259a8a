using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>Frozen BatchNormalization folded into the Conv before it in the step graph (BatchNormFolding).</summary>
public class BatchNormFoldingTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    /// <summary>x → Conv (with or without bias) → BN → Sigmoid → GAP → Flatten → Gemm, the BN statistics far from 0/1.</summary>
    private static OnnxModel ConvBn(bool convBias)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2, 6, 6)
            .Initializer("conv.w", Random(3 * 2 * 3 * 3, 101, 0.5f), 3, 2, 3, 3)
            .Initializer("conv.b", Random(3, 102, 0.3f), 3)
            .Initializer("bn.scale", [1.4f, 0.6f, 1.1f], 3)
            .Initializer("bn.bias", [0.2f, -0.3f, 0.05f], 3)
            .Initializer("bn.mean", [0.4f, -0.5f, 0.2f], 3)
            .Initializer("bn.var", [0.5f, 2.0f, 0.8f], 3)
            .Initializer("fc.w", Random(4 * 3, 103, 0.8f), 4, 3)
            .Node("Conv", convBias ? ["x", "conv.w", "conv.b"] : ["x", "conv.w"], ["c"], Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["n"], Float("epsilon", 1e-3f))
            .Node("Sigmoid", ["n"], ["a"])
            .Node("GlobalAveragePool", ["a"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 4);
        return OnnxModel.Load(b.ToBytes());
    }

    [Fact]
    public void Compile_FrozenBatchNormAfterConv_IsFoldedIntoTheConv()
    {
        var step = TrainingCompiler.Compile(ConvBn(convBias: true), new TrainingSpec { Trainable = ["*"] });
        Assert.DoesNotContain(step.Step.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.Contains(step.Eval.Graph.Node, n => n.OpType == "BatchNormalization");

        // Training-mode BN keeps its batch statistics (nothing to fold).
        var train = TrainingCompiler.Compile(ConvBn(convBias: true), new TrainingSpec { Trainable = ["*"], BatchNorm = BatchNormMode.Train });
        Assert.Contains(train.Step.Graph.Node, n => n.OpType == "ReduceMean" && n.Name.Contains("bnt_mean", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Step_FoldedBatchNorm_MatchesTheUnfoldedEvalGraphAndFiniteDifferences(bool convBias)
    {
        var model = ConvBn(convBias);
        using var session = TrainingSession.Create(model, new TrainingSpec { Trainable = ["*"] });
        using var x = Tensor<float>.FromSpan(Random(3 * 2 * 6 * 6, 104), 3, 2, 6, 6);
        using var y = Tensor<long>.FromSpan([0L, 1L, 3L], 3);
        var eval = session.EvaluateOnFeatures(x, y);
        var step = session.Step(x, y, 0f);
        Assert.Equal(eval.Loss, step.Loss, 1e-5f);
        Assert.Equal(eval.Logits.ToArray(), step.Logits.ToArray(), new Tolerance(1e-5f));
        CheckAll(model, 6, convBias ? ["conv.w", "conv.b", "bn.scale", "bn.bias", "fc.w"] : ["conv.w", "bn.scale", "bn.bias", "fc.w"], every: 1, fractionOfLargest: 5e-3, floor: 1e-5);
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;
using static OnnxCnn.Training.Tests.GradientCheckTests;

namespace OnnxCnn.Training.Tests;

/// <summary>The one-slope backward of hard-swish written as x·HardSigmoid(x) (BackwardRules.HardSwish.cs).</summary>
public class HardSwishPairTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    /// <summary>
    /// x → Gemm → h·HardSigmoid(h, α, β) (operands in either order; the linear zone off-centre when β ≠ ½, mirrored when
    /// α &lt; 0) → Gemm → k·HardSigmoid(j) with j a different
    /// tensor (a squeeze-excite style gate, not a pair; its weights small enough that finite differences stay off
    /// its kinks) → Gemm.
    /// </summary>
    private static OnnxModel Model(float alpha, bool gateFirst, float beta = 0.5f)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 6)
            .Initializer("w1", Random(8 * 6, 121, 2.5f), 8, 6)
            .Initializer("w2", Random(5 * 8, 122, 1.5f), 5, 8)
            .Initializer("wj", Random(5 * 8, 123, 0.4f), 5, 8)
            .Initializer("w3", Random(3 * 5, 124, 1.0f), 3, 5)
            .Node("Gemm", ["x", "w1"], ["h"], Int("transB", 1))
            .Node("HardSigmoid", ["h"], ["hs"], Float("alpha", alpha), Float("beta", beta))
            .Node("Mul", gateFirst ? ["hs", "h"] : ["h", "hs"], ["a"])
            .Node("Gemm", ["a", "w2"], ["k"], Int("transB", 1))
            .Node("Gemm", ["a", "wj"], ["j"], Int("transB", 1))
            .Node("HardSigmoid", ["j"], ["js"], Float("alpha", 0.2f), Float("beta", 0.5f))
            .Node("Mul", ["k", "js"], ["m"])
            .Node("Gemm", ["m", "w3"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        return OnnxModel.Load(b.ToBytes());
    }

    [Theory]
    [InlineData(1f / 6, false)]
    [InlineData(1f / 6, true)]
    [InlineData(0.2f, false)]
    [InlineData(0.25f, true, 0.3f)]
    [InlineData(-0.2f, false, 0.6f)]
    public void Gradients_HardSwishPair_MatchFiniteDifferences(float alpha, bool gateFirst, float beta = 0.5f)
    {
        CheckAll(Model(alpha, gateFirst, beta), 0, ["w1", "w2", "wj", "w3"], inputShape: [5, 6], every: 1, fractionOfLargest: 5e-3, floor: 1e-5);
    }

    [Fact]
    public void Compile_HardSwishPair_HasOneSlopeAndTheOtherGateItsOwnRule()
    {
        var step = TrainingCompiler.Compile(Model(1f / 6, false), new TrainingSpec { Trainable = ["*"] }).Step.Graph.Node;
        Assert.Single(step, n => n.Name.Contains("/dhardswish_pair/", StringComparison.Ordinal));
        Assert.Single(step, n => n.Name.Contains("/dhardsigmoid/", StringComparison.Ordinal));
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Training.Tests;

/// <summary>Optimiser updates, clipping, binary cross-entropy and learning-rate groups against their closed forms, computed here.</summary>
public class OptimizerClosedFormTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;
    private static readonly float[] W0 = [0.5f, -0.25f, 0.1f, 0.3f, -0.6f, 0.2f];
    private static readonly float[] B0 = [0.05f, -0.1f, 0.15f];

    /// <summary>logits = x·wᵀ + b with w [3, 2] and b [3].</summary>
    private static OnnxModel Linear(int outputs = 3, bool squeeze = false)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2)
            .Initializer("w", W0[..(2 * outputs)], outputs, 2)
            .Initializer("b", B0[..outputs], outputs)
            .Node("Gemm", ["x", "w", "b"], [squeeze ? "g" : "logits"], Int("transB", 1));
        if (squeeze)
        {
            b.Initializer("axes", [1L], 1).Node("Squeeze", ["g", "axes"], ["logits"]).Output("logits", F, "N");
        }
        else
        {
            b.Output("logits", F, "N", outputs);
        }

        return OnnxModel.Load(b.ToBytes());
    }

    private static (Tensor<float> X, Tensor<long> Y) Batch(int classes) =>
        (Tensor<float>.FromSpan([1f, 2f, -1.5f, 0.5f, 0.3f, -2f, 2.5f, 1f], 4, 2), Tensor<long>.FromSpan(Enumerable.Range(0, 4).Select(i => (long)(i % classes)).ToArray(), 4));

    [Theory]
    [InlineData(false, 0f, 0f)]
    [InlineData(true, 0f, 0.01f)]
    [InlineData(false, 0.9f, 0f)]
    [InlineData(true, 0.5f, 0.05f)]
    public void RmsProp_ThreeSteps_MatchClosedForm(bool centered, float momentum, float weightDecay)
    {
        const float lr = 0.01f, alpha = 0.9f, eps = 1e-8f;
        var spec = new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.RmsProp, Alpha = alpha, Centered = centered, Momentum = momentum, WeightDecay = weightDecay, ExposeGradients = true };
        using var session = TrainingSession.Create(Linear(), spec);
        var (x, y) = Batch(3);
        using var _x = x;
        using var _y = y;
        var w = (float[])W0.Clone();
        double[] square = new double[6], average = new double[6], buffer = new double[6];
        for (var step = 0; step < 3; step++)
        {
            var g = session.Step(x, y, lr).Gradients["w"].ToArray();
            for (var i = 0; i < w.Length; i++)
            {
                var gi = g[i] + (weightDecay * (double)w[i]);
                square[i] = (alpha * square[i]) + ((1 - alpha) * gi * gi);
                var variance = square[i];
                if (centered)
                {
                    average[i] = (alpha * average[i]) + ((1 - alpha) * gi);
                    variance -= average[i] * average[i];
                }

                var direction = gi / (Math.Sqrt(variance) + eps);
                if (momentum > 0)
                {
                    buffer[i] = (momentum * buffer[i]) + direction;
                    direction = buffer[i];
                }

                w[i] -= (float)(lr * direction);
            }

            Assert.Equal(w, session.Parameter("w").ToArray(), new Tolerance(2e-6f));
        }

        var expectedState = 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0);
        Assert.Equal(2 * expectedState, session.Graph.State.Count);
    }

    [Theory]
    [InlineData(0.05f)]
    [InlineData(100f)]
    public void ClipGradNorm_ScalesAllGradientsByTheGlobalNorm(float maxNorm)
    {
        const float lr = 0.5f;
        var spec = new TrainingSpec { Trainable = ["*"], ClipGradNorm = maxNorm, ExposeGradients = true };
        using var session = TrainingSession.Create(Linear(), spec);
        var (x, y) = Batch(3);
        using var _x = x;
        using var _y = y;
        var step = session.Step(x, y, lr);
        var gw = step.Gradients["w"].ToArray();
        var gb = step.Gradients["b"].ToArray();
        var norm = Math.Sqrt(gw.Concat(gb).Sum(v => (double)v * v));
        var coefficient = Math.Min(1, maxNorm / (norm + 1e-6));
        Assert.Equal(maxNorm < norm, coefficient < 1);
        Assert.Equal(W0.Select((v, i) => (float)(v - (lr * coefficient * gw[i]))).ToArray(), session.Parameter("w").ToArray(), new Tolerance(1e-6f));
        Assert.Equal(B0.Select((v, i) => (float)(v - (lr * coefficient * gb[i]))).ToArray(), session.Parameter("b").ToArray(), new Tolerance(1e-6f));
    }

    [Theory]
    [InlineData(false, 1f, 0f, false)]
    [InlineData(false, 2.5f, 0.1f, false)]
    [InlineData(true, 1f, 0.2f, true)]
    [InlineData(true, 0.5f, 0f, true)]
    public void BinaryCrossEntropy_LossAndGradient_MatchClosedForm(bool squeeze, float positiveWeight, float smoothing, bool weighted)
    {
        float[]? classWeights = weighted ? [0.6f, 1.7f] : null;
        var spec = new TrainingSpec { Trainable = ["*"], Loss = LossKind.SigmoidBinaryCrossEntropy, PositiveWeight = positiveWeight, LabelSmoothing = smoothing, ClassWeights = classWeights, ExposeGradients = true };
        using var session = TrainingSession.Create(Linear(1, squeeze), spec);
        var (x, y) = Batch(2);
        using var _x = x;
        using var _y = y;
        var step = session.Step(x, y, 0f);
        var loss = step.Loss;
        var xs = x.ToArray();
        var labels = y.ToArray();
        double expected = 0, dw0 = 0, dw1 = 0, db = 0;
        for (var i = 0; i < 4; i++)
        {
            var z = (W0[0] * xs[2 * i]) + (W0[1] * xs[(2 * i) + 1]) + B0[0];
            var t = (labels[i] * (1 - smoothing)) + (smoothing / 2);
            var weight = classWeights?[labels[i]] ?? 1;
            var p = 1 / (1 + Math.Exp(-z));
            expected += -weight * ((positiveWeight * t * Math.Log(p)) + ((1 - t) * Math.Log(1 - p))) / 4;
            var dz = weight * ((p * ((positiveWeight * t) + 1 - t)) - (positiveWeight * t)) / 4;
            dw0 += dz * xs[2 * i];
            dw1 += dz * xs[(2 * i) + 1];
            db += dz;
        }

        Assert.Equal(expected, loss, 1e-5);
        Assert.Equal([(float)dw0, (float)dw1], step.Gradients["w"].ToArray(), new Tolerance(1e-6f));
        Assert.Equal((float)db, step.Gradients["b"].Span[0], 1e-6f);
        Assert.Equal([4L, .. squeeze ? Array.Empty<long>() : [1L]], step.LogitsShape);
    }

    [Fact]
    public void BinaryCrossEntropy_LargeLogits_StaysFinite()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 1)
            .Initializer("w", [60f], 1, 1)
            .Node("MatMul", ["x", "w"], ["logits"])
            .Output("logits", F, "N", 1);
        using var session = TrainingSession.Create(OnnxModel.Load(b.ToBytes()), new TrainingSpec { Trainable = ["*"], Loss = LossKind.SigmoidBinaryCrossEntropy, ExposeGradients = true });
        using var x = Tensor<float>.FromSpan([1f, -1f], 2, 1);
        using var y = Tensor<long>.FromSpan([0L, 1L], 2);

        // Both samples are wrong by a logit of 60: loss 60 each (log(1 + e⁶⁰) ≈ 60), gradient ((1 − 0)·1 + (0 − 1)·(−1)) / 2 = 1.
        var step = session.Step(x, y, 0f);
        Assert.Equal(60.0, step.Loss, 1e-4);
        Assert.Equal(1f, step.Gradients["w"].Span[0], 1e-6f);
    }

    [Fact]
    public void BinaryCrossEntropy_TwoColumnLogits_IsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TrainingCompiler.Compile(Linear(2), new TrainingSpec { Trainable = ["*"], Loss = LossKind.SigmoidBinaryCrossEntropy }));
        Assert.Equal("binary cross-entropy needs one logit per sample ([batch, 1] or [batch]); 'logits' is [N,2].", e.Message);
    }

    [Fact]
    public void LearningRateGroups_EachGroupGetsItsOwnRate_WithoutRebuild()
    {
        var spec = new TrainingSpec { Trainable = ["*"], LearningRateGroups = [new LearningRateGroup("bias", ["b"], 0.25f)], ExposeGradients = true };
        using var session = TrainingSession.Create(Linear(), spec);
        Assert.Contains(session.Graph.Step.Graph.Input, i => i.Name == "learning_rate:bias");
        Assert.Equal("bias", session.Graph.ParameterGroups["b"]);
        Assert.False(session.Graph.ParameterGroups.ContainsKey("w"));
        var (x, y) = Batch(3);
        using var _x = x;
        using var _y = y;
        var w = W0.ToArray();
        var bias = B0.ToArray();
        void Check(StepResult step, float wRate, float bRate)
        {
            var gw = step.Gradients["w"].ToArray();
            var gb = step.Gradients["b"].ToArray();
            w = w.Select((v, i) => v - (wRate * gw[i])).ToArray();
            bias = bias.Select((v, i) => v - (bRate * gb[i])).ToArray();
            Assert.Equal(w, session.Parameter("w").ToArray(), new Tolerance(1e-6f));
            Assert.Equal(bias, session.Parameter("b").ToArray(), new Tolerance(1e-6f));
        }

        Check(session.Step(x, y, 0.4f), 0.4f, 0.1f);
        session.GroupLearningRates["bias"] = 0.7f;
        Check(session.Step(x, y, 0.2f), 0.2f, 0.7f);
        session.GroupLearningRates["nope"] = 1f;
        var e = Assert.Throws<ArgumentException>(() => session.Step(x, y, 0.2f));
        Assert.Equal("no learning-rate group 'nope' in this training graph (groups: bias).", e.Message);
    }

    [Fact]
    public void LearningRateGroups_MatchingNoTrainableParameter_IsRefused()
    {
        var spec = new TrainingSpec { Trainable = ["w"], LearningRateGroups = [new LearningRateGroup("head", ["b"], 2f)] };
        var e = Assert.Throws<ArgumentException>(() => TrainingCompiler.Compile(Linear(), spec));
        Assert.Equal("learning-rate group 'head' (b) matches no trainable parameter that an earlier group has not taken.", e.Message);
    }
}

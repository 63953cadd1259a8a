using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Training.Tests;

/// <summary>Backward rules against central finite differences of the loss, through ONNX Runtime.</summary>
public class GradientCheckTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    internal static float[] Random(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => ((r.NextSingle() * 2) - 1) * scale).ToArray();
    }

    /// <summary>A conv stack: Conv(stride, pad, dilation) → BN (frozen) → activation → GAP → Flatten → Gemm(+bias as Add after MatMul).</summary>
    private static OnnxModel ConvModel(int size, long stride, long pad, long dilation, string activation)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2, size, size)
            .Initializer("conv.w", Random(3 * 2 * 3 * 3, 1, 0.5f), 3, 2, 3, 3)
            .Initializer("conv.b", Random(3, 2, 0.1f), 3)
            .Initializer("bn.scale", [1.2f, 0.8f, 1.1f], 3)
            .Initializer("bn.bias", [0.1f, -0.2f, 0.05f], 3)
            .Initializer("bn.mean", [0.05f, -0.1f, 0.2f], 3)
            .Initializer("bn.var", [0.9f, 1.3f, 0.7f], 3)
            .Initializer("scale", Random(3, 9, 1f), 1, 3, 1, 1)
            .Initializer("fc.w", Random(3 * 4, 3, 0.8f), 3, 4)
            .Initializer("fc.b", Random(4, 4, 0.1f), 4)
            .Node("Conv", ["x", "conv.w", "conv.b"], ["c"], Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad), Ints("dilations", dilation, dilation))
            .Node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["n"])
            .Node("Mul", ["n", "scale"], ["s"])
            .Node(activation, ["s"], ["a"], activation == "LeakyRelu" ? [Float("alpha", 0.1f)] : [])
            .Node("GlobalAveragePool", ["a"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("MatMul", ["f", "fc.w"], ["m"])
            .Node("Add", ["m", "fc.b"], ["logits"])
            .Output("logits", F, "N", 4);
        return OnnxModel.Load(b.ToBytes());
    }

    public static TheoryData<int, long, long, long, string> ConvCases() => new()
    {
        { 7, 1, 1, 1, "Sigmoid" },
        { 8, 2, 1, 1, "LeakyRelu" },
        { 9, 2, 0, 1, "Sigmoid" },
        { 10, 1, 2, 2, "LeakyRelu" },
        { 11, 3, 1, 1, "Sigmoid" },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Gradients_ConvBnActivationHead_MatchFiniteDifferences(int size, long stride, long pad, long dilation, string activation)
    {
        var model = ConvModel(size, stride, pad, dilation, activation);
        CheckAll(model, size, ["conv.w", "conv.b", "bn.scale", "bn.bias", "scale", "fc.w", "fc.b"]);
    }

    [Fact]
    public void Gradients_ClipAndSubBroadcast_MatchFiniteDifferences()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 6)
            .Initializer("w", Random(6 * 5, 11, 0.7f), 5, 6)
            .Initializer("shift", Random(5, 12, 0.3f), 5)
            .Initializer("lo", [-0.4f])
            .Initializer("hi", [0.5f])
            .Initializer("w2", Random(5 * 3, 13, 0.7f), 3, 5)
            .Node("Gemm", ["x", "w"], ["h"], Int("transB", 1))
            .Node("Sub", ["h", "shift"], ["d"])
            .Node("Clip", ["d", "lo", "hi"], ["c"])
            .Node("Gemm", ["c", "w2"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        CheckAll(OnnxModel.Load(b.ToBytes()), 0, ["w", "shift", "w2"], inputShape: [4, 6]);
    }

    [Fact]
    public void Gradients_HardActivationsConcatTransposeSoftmaxDivReduceMean_MatchFiniteDifferences()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 6)
            .Initializer("w1", Random(8 * 6, 31, 1.5f), 8, 6)
            .Initializer("w3", Random(8 * 6, 32, 1.5f), 8, 6)
            .Initializer("w4", Random(5 * 16, 33, 0.6f), 5, 16)
            .Initializer("den", [1.5f, 0.8f, 2.0f, 1.2f, 0.9f], 5)
            .Initializer("w5", Random(3 * 5, 34, 1.0f), 3, 5)
            .Node("Gemm", ["x", "w1"], ["h"], Int("transB", 1))
            .Node("HardSwish", ["h"], ["a"])
            .Node("Gemm", ["x", "w3"], ["h3"], Int("transB", 1))
            .Node("HardSigmoid", ["h3"], ["b"], Float("alpha", 0.2f), Float("beta", 0.5f))
            .Node("Concat", ["a", "b"], ["c"], Int("axis", 1))
            .Node("Transpose", ["c"], ["t"], Ints("perm", 1, 0))
            .Node("Transpose", ["t"], ["u"], Ints("perm", 1, 0))
            .Node("ReduceMean", ["u"], ["q"], Ints("axes", 1), Int("keepdims", 1))
            .Node("Gemm", ["u", "w4"], ["z"], Int("transB", 1))
            .Node("Softmax", ["z"], ["s"], Int("axis", 1))
            .Node("Div", ["s", "den"], ["d"])
            .Node("Add", ["d", "q"], ["e"])
            .Node("Gemm", ["e", "w5"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        CheckAll(OnnxModel.Load(b.ToBytes()), 0, ["w1", "w3", "w4", "den", "w5"], inputShape: [4, 6]);
    }

    [Theory]
    [InlineData(9, 1, 1)]
    [InlineData(10, 2, 1)]
    public void Gradients_DepthwiseConv_MatchFiniteDifferences(int size, long stride, long pad)
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 3, size, size)
            .Initializer("dw.w", Random(3 * 1 * 3 * 3, 41, 0.8f), 3, 1, 3, 3)
            .Initializer("dw.b", Random(3, 42, 0.1f), 3)
            .Initializer("fc.w", Random(4 * 3, 43, 0.8f), 4, 3)
            .Node("Conv", ["x", "dw.w", "dw.b"], ["c"], Int("group", 3), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad))
            .Node("HardSwish", ["c"], ["a"])
            .Node("GlobalAveragePool", ["a"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 4);
        CheckAll(OnnxModel.Load(b.ToBytes()), size, ["dw.w", "dw.b", "fc.w"], inputShape: [3, 3, size, size]);
    }

    [Fact]
    public void Gradients_WeightedCrossEntropy_MatchFiniteDifferences()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 6)
            .Initializer("w", Random(3 * 6, 51, 0.9f), 3, 6)
            .Initializer("bias", Random(3, 52, 0.2f), 3)
            .Node("Gemm", ["x", "w", "bias"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 3);
        CheckAll(OnnxModel.Load(b.ToBytes()), 0, ["w", "bias"], inputShape: [5, 6], classWeights: [0.5f, 2f, 1f]);
    }

    [Fact]
    public void UnsupportedOperator_InTrainableRegion_IsNamed()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 4)
            .Initializer("w", Random(12, 1), 3, 4)
            .Node("Gemm", ["x", "w"], ["h"], Int("transB", 1))
            .Node("Tanh", ["h"], ["logits"])
            .Output("logits", F, "N", 3);
        var e = Assert.Throws<InvalidOperationException>(() => TrainingCompiler.Compile(OnnxModel.Load(b.ToBytes()), new TrainingSpec { Trainable = ["*"] }));
        Assert.StartsWith("cannot train through node 'Tanh_1' (Tanh): no backward rule for this operator.", e.Message);
    }

    [Fact]
    public void Sgd_ClosedForm_MomentumAndWeightDecay()
    {
        // One linear layer; check two steps against the PyTorch SGD formulas computed here by hand.
        var b = new ModelBuilder()
            .Input("x", F, "N", 2)
            .Initializer("w", [0.5f, -0.25f, 0.1f, 0.3f], 2, 2)
            .Node("Gemm", ["x", "w"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 2);
        var spec = new TrainingSpec { Trainable = ["*"], Momentum = 0.9f, WeightDecay = 0.01f, ExposeGradients = true };
        using var session = TrainingSession.Create(OnnxModel.Load(b.ToBytes()), spec);
        using var x = Tensor<float>.FromSpan([1f, 2f], 1, 2);
        using var y = Tensor<long>.FromSpan([1L], 1);
        var w = new[] { 0.5f, -0.25f, 0.1f, 0.3f };
        var v = new float[4];
        for (var step = 0; step < 2; step++)
        {
            var g = session.Step(x, y, 0.1f).Gradients["w"].ToArray();
            for (var i = 0; i < 4; i++)
            {
                var gw = g[i] + (0.01f * w[i]);
                v[i] = (0.9f * v[i]) + gw;
                w[i] -= 0.1f * v[i];
            }

            Assert.Equal(w, session.Parameter("w").ToArray(), new Tolerance(1e-6f));
        }
    }

    [Fact]
    public void Learning_HappensOnASeparableTask()
    {
        var b = new ModelBuilder()
            .Input("x", F, "N", 2)
            .Initializer("w1", Random(16, 1, 0.5f), 8, 2)
            .Initializer("b1", new float[8], 8)
            .Initializer("w2", Random(16, 2, 0.5f), 2, 8)
            .Node("Gemm", ["x", "w1", "b1"], ["h"], Int("transB", 1))
            .Node("Relu", ["h"], ["r"])
            .Node("Gemm", ["r", "w2"], ["logits"], Int("transB", 1))
            .Output("logits", F, "N", 2);
        using var session = TrainingSession.Create(OnnxModel.Load(b.ToBytes()), new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.Adam });
        var r = new Random(3);
        var points = Enumerable.Range(0, 64).Select(_ => (r.NextSingle() * 2 - 1, r.NextSingle() * 2 - 1)).ToArray();
        using var x = Tensor<float>.FromSpan(points.SelectMany(p => new[] { p.Item1, p.Item2 }).ToArray(), 64, 2);
        using var y = Tensor<long>.FromSpan(points.Select(p => p.Item1 + p.Item2 > 0 ? 1L : 0L).ToArray(), 64);
        var first = session.Step(x, y, 0.05f).Loss;
        var last = first;
        for (var i = 0; i < 150; i++)
        {
            last = session.Step(x, y, 0.05f).Loss;
        }

        Assert.True(last < first * 0.3, $"loss went from {first} to {last}");
    }

    /// <summary>
    /// Checks the exposed gradient of each parameter against central differences, at its first,
    /// middle and last element, or at every <paramref name="every"/>-th element (and the last) when given.
    /// The absolute tolerance is 2e-3, or <paramref name="fractionOfLargest"/> of the parameter's
    /// largest gradient when given (for small gradients, where 2e-3 would hide a wrong rule).
    /// </summary>
    internal static void CheckAll(OnnxModel model, int size, string[] parameters, long[]? inputShape = null, IReadOnlyList<float>? classWeights = null, int every = 0, double fractionOfLargest = 0,
        BatchNormMode batchNorm = BatchNormMode.Frozen, double floor = 0)
    {
        inputShape ??= [3, 2, size, size];
        var count = (int)inputShape.Aggregate(1L, (a, d) => a * d);
        var input = Random(count, 21);
        var labels = Enumerable.Range(0, (int)inputShape[0]).Select(i => (long)(i % 3)).ToArray();
        var spec = new TrainingSpec { Trainable = ["*"], ExposeGradients = true, ClassWeights = classWeights, BatchNorm = batchNorm };
        using var session = TrainingSession.Create(model, spec);
        using var x = Tensor<float>.FromSpan(input, inputShape);
        using var y = Tensor<long>.FromSpan(labels, labels.Length);
        var step = session.Step(x, y, 0f);
        foreach (var p in parameters)
        {
            var analytic = step.Gradients[p].ToArray();
            var absolute = Math.Max(floor, fractionOfLargest > 0 ? fractionOfLargest * analytic.Max(Math.Abs) : 2e-3);
            var init = model.Graph.Initializer.First(t => t.Name == p);
            var original = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(TensorData.FromProto(init).Bytes).ToArray();
            var indices = every > 0
                ? Enumerable.Range(0, original.Length).Where(i => i % every == 0).Append(original.Length - 1).Distinct()
                : new[] { 0, original.Length / 2, original.Length - 1 }.Distinct();
            foreach (var i in indices)
            {
                const float eps = 1e-2f;
                var plus = LossWith(model, p, original, i, eps, x, y, spec);
                var minus = LossWith(model, p, original, i, -eps, x, y, spec);
                var numeric = (plus - minus) / (2 * eps);
                Assert.True(Math.Abs(numeric - analytic[i]) <= absolute + (2e-2 * Math.Abs(analytic[i])),
                    $"{p}[{i}]: analytic {analytic[i]}, finite difference {numeric}");
            }
        }
    }

    private static float LossWith(OnnxModel model, string parameter, float[] original, int index, float delta, Tensor<float> x, Tensor<long> y, TrainingSpec spec)
    {
        var copy = model.Clone();
        var values = (float[])original.Clone();
        values[index] += delta;
        var init = copy.Graph.Initializer.First(t => t.Name == parameter);
        init.ClearRawData();
        init.FloatData.Clear();
        init.RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        using var session = TrainingSession.Create(copy, new TrainingSpec { Trainable = ["*"], ClassWeights = spec.ClassWeights, BatchNorm = spec.BatchNorm });
        return session.Step(x, y, 0f).Loss;
    }
}

internal sealed class Tolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;

    public int GetHashCode(float obj) => 0;
}

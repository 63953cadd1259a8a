using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Inspection.Internal;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// MaxPool's input gradient on inputs full of ties (values from {0, 1, 2}): the whole window's gradient goes to its
/// first maximum in row-major order, PyTorch's and ORT's rule (ORT's indices, scattered back), whether the windows tile
/// the input, drop a last row and column, are not square or overlap. The reference is a plain loop over the windows.
/// </summary>
public class MaxPoolGradientTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    [Theory]
    [InlineData(4, 6, 2, 2, 2, 2)] // tiles exactly
    [InlineData(5, 7, 2, 2, 2, 2)] // floor mode drops the last row and column
    [InlineData(6, 9, 2, 3, 2, 3)] // rectangular windows
    [InlineData(7, 7, 3, 3, 2, 2)] // overlapping windows
    [InlineData(6, 6, 2, 2, 1, 1)] // stride 1: overlapping too
    public void InputGradient_WindowsWithTies_GoToTheFirstMaximum(int h, int w, int kh, int kw, int sh, int sw)
    {
        const int n = 2, c = 3, classes = 4;
        int oh = ((h - kh) / sh) + 1, ow = ((w - kw) / sw) + 1, features = c * oh * ow;
        var fc = GradientCheckTests.Random(classes * features, 7);
        var model = OnnxModel.Load(new ModelBuilder()
            .Input("x", F, n, c, h, w)
            .Initializer("fc", fc, classes, features)
            .Node("MaxPool", ["x"], ["p"], Ints("kernel_shape", kh, kw), Ints("strides", sh, sw))
            .Node("Flatten", ["p"], ["f"])
            .Node("Gemm", ["f", "fc"], ["logits"], Int("transB", 1))
            .Output("logits", F, n, classes)
            .ToBytes());
        var graph = GradientGraph.Build(model, "x", [n, c, h, w], "logits");

        var random = new Random(11);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (float)random.Next(3)).ToArray();
        var g = GradientCheckTests.Random(n * classes, 12);
        var expected = new float[x.Length];
        for (var b = 0; b < n; b++)
        {
            for (var ch = 0; ch < c; ch++)
            {
                for (var i = 0; i < oh; i++)
                {
                    for (var j = 0; j < ow; j++)
                    {
                        var first = -1;
                        for (var di = 0; di < kh; di++)
                        {
                            for (var dj = 0; dj < kw; dj++)
                            {
                                var at = (((b * c) + ch) * h * w) + (((i * sh) + di) * w) + (j * sw) + dj;
                                if (first < 0 || x[at] > x[first])
                                {
                                    first = at;
                                }
                            }
                        }

                        var feature = (ch * oh * ow) + (i * ow) + j;
                        expected[first] += Enumerable.Range(0, classes).Sum(k => g[(b * classes) + k] * fc[(k * features) + feature]);
                    }
                }
            }
        }

        using var session = InferenceSession.FromBytes(graph.ToBytes());
        using var xs = Tensor<float>.FromSpan(x, [n, c, h, w]);
        using var gs = Tensor<float>.FromSpan(g, [n, classes]);
        using var result = session.Run([new("x", xs), new(GradientGraph.OutputGradient, gs)]);
        var actual = ((Tensor<float>)result[0].Value).Span.ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"dx[{i}] = {actual[i]}, expected {expected[i]} (x = {x[i]})");
        }
    }
}

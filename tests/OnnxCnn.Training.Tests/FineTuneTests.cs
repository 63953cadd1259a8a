using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

public class FineTuneTests
{
    /// <summary>
    /// A Paddle2ONNX-style graph (opset 9, weights in Constant nodes, HardSigmoid/hard-swish,
    /// depthwise convs, squeeze-excite, BN, Shape-chain Reshape head, Softmax output): new head,
    /// head-only training through a frozen prefix session, loss falls, export still gives probabilities.
    /// </summary>
    [Fact]
    public void PaddleStyle_HeadOnly_TrainsAndExportsProbabilities()
    {
        var model = HeadEdits.Replace(OnnxModel.Load(RepoPaths.Fixture("graphs", "paddle_style", "model.onnx")), new HeadSpec { Classes = 2, Seed = 1 });
        using var session = TrainingSession.Create(model, new TrainingSpec { Optimizer = OptimizerKind.Adam });
        Assert.NotNull(session.Graph.Prefix);
        Assert.Equal(["head.0.bias", "head.0.weight"], session.Graph.Parameters);
        var r = new Random(7);
        using var x = Tensor<float>.Create(8, 3, 32, 32);
        foreach (ref var v in x.Span)
        {
            v = r.NextSingle();
        }

        // Label = brightness of the red channel's mean: learnable from pooled features.
        var labels = new long[8];
        for (var n = 0; n < 8; n++)
        {
            var offset = n * 3 * 32 * 32;
            if (n % 2 == 0)
            {
                x.Span.Slice(offset, 32 * 32).Fill(1f);
            }

            labels[n] = n % 2;
        }

        using var y = Tensor<long>.FromSpan(labels, 8);
        var first = session.Step(x, y, 0.1f).Loss;
        var last = first;
        for (var i = 0; i < 300; i++)
        {
            last = session.Step(x, y, 0.1f).Loss;
        }

        Assert.True(last < first * 0.5, $"loss went from {first} to {last}");
        var exported = session.ExportInference();
        using var inference = InferenceSession.FromBytes(exported.ToBytes());
        using var result = inference.Run(x);
        var p = result.First<float>().ToArray();
        Assert.Equal(16, p.Length);
        Assert.Equal(1f, p[0] + p[1], 1e-5f);
        var correct = Enumerable.Range(0, 8).Count(n => (p[(n * 2) + 1] > p[n * 2] ? 1 : 0) == labels[n]);
        Assert.Equal(8, correct);
    }

    /// <summary>
    /// The same graph with every parameter trainable: gradients flow through depthwise and pointwise convs with
    /// Constant-node weights, hard-swish, the squeeze-excite HardSigmoid gate and frozen BN down to the stem.
    /// </summary>
    [Fact]
    public void PaddleStyle_AllParameters_TrainEndToEndAndExport()
    {
        var model = HeadEdits.Replace(OnnxModel.Load(RepoPaths.Fixture("graphs", "paddle_style", "model.onnx")), new HeadSpec { Classes = 2, Seed = 1 });
        using var session = TrainingSession.Create(model, new TrainingSpec { Trainable = ["*"], Optimizer = OptimizerKind.Adam });
        Assert.Null(session.Graph.Prefix);
        var ops = session.Graph.Step.Graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.Contains("HardSigmoid", ops);
        Assert.Contains("Conv", ops);
        var before = session.Graph.Parameters.ToDictionary(p => p, p => session.Parameter(p).ToArray());
        Assert.Contains(session.Graph.Parameters, p => before[p].Length > 0 && session.Source.Graph.Node.Any(n => n.OpType == "Conv" && n.Input[1] == p && n.Attribute.Any(a => a.Name == "group" && a.I > 1)));
        var r = new Random(3);
        using var x = Tensor<float>.Create(8, 3, 32, 32);
        var labels = new long[8];
        for (var n = 0; n < 8; n++)
        {
            // Class 1 images are bright in the top half, class 0 in the bottom half.
            labels[n] = n % 2;
            var image = x.Span.Slice(n * 3 * 32 * 32, 3 * 32 * 32);
            for (var i = 0; i < image.Length; i++)
            {
                var top = (i % (32 * 32)) < 16 * 32;
                image[i] = (r.NextSingle() * 0.5f) + (top == (labels[n] == 1) ? 0.5f : 0f);
            }
        }

        using var y = Tensor<long>.FromSpan(labels, 8);
        var first = session.Step(x, y, 0.01f).Loss;
        var last = first;
        for (var i = 0; i < 100; i++)
        {
            last = session.Step(x, y, 0.01f).Loss;
        }

        Assert.True(last < first * 0.5, $"loss went from {first} to {last}");
        var stem = session.Graph.Parameters.Where(p => !p.StartsWith("head.", StringComparison.Ordinal)).ToList();
        Assert.True(stem.Count(p => !before[p].AsSpan().SequenceEqual(session.Parameter(p))) >= stem.Count - 1, "the base's parameters did not train");

        using var inference = InferenceSession.FromBytes(session.ExportInference().ToBytes());
        using var result = inference.Run(x);
        var probabilities = result.First<float>().ToArray();
        var logits = session.Step(x, y, 0f).Logits.ToArray();
        for (var n = 0; n < 8; n++)
        {
            // The export keeps the Softmax output: probabilities equal softmax of the step graph's logits.
            var e0 = Math.Exp(logits[n * 2]);
            var e1 = Math.Exp(logits[(n * 2) + 1]);
            Assert.Equal(e1 / (e0 + e1), probabilities[(n * 2) + 1], 1e-4);
        }
    }

    [Fact]
    public void UnfreezeFrom_Tensor_TrainsOnlyDownstream()
    {
        var model = OnnxModel.Load(RepoPaths.Fixture("training", "small_cnn", "model.onnx"));
        var pool = model.Graph.Node.First(n => n.OpType == "MaxPool").Output[0];
        var graph = TrainingCompiler.Compile(model, new TrainingSpec { UnfreezeFrom = pool });
        Assert.Equal(["conv2.bias", "conv2.weight", "fc.bias", "fc.weight"], graph.Parameters);
        Assert.Equal(pool, graph.Input);
        Assert.NotNull(graph.Prefix);
        Assert.All(graph.Step.Graph.Node, n => Assert.Equal("", n.Domain));
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Internal;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Training.Tests;

/// <summary>The CPU session's rewrite of Convs onto ORT's NCHWc kernels: the block it reads from ORT, and outputs equal to the plain Convs'.</summary>
public class NchwcConvsTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    [Fact]
    public void BlockSize_OnX64_IsTheWidthOfTheVectorUnitOrtUses()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.True(NchwcConvs.BlockSize is 0 or >= 4);
            return;
        }

        // MLAS blocks channels by 16 floats where AVX-512F runs, by 8 with AVX2 or SSE.
        Assert.Equal(Avx512F.IsSupported ? 16 : 8, NchwcConvs.BlockSize);
    }

    /// <summary>
    /// Weights are graph inputs (as in a step graph, where ORT's own NCHWc optimiser does not touch them): a depthwise
    /// Conv with 12 channels (a block padded), a strided one with dY-sized kernel, a dense 3×3 with 16 → 32 channels and
    /// a bias, and a 1×1 that stays as it is.
    /// </summary>
    private static OnnxModel Convs() => OnnxModel.Load(new ModelBuilder()
        .Input("x", F, "N", 12, 7, 9)
        .Input("dw", F, 12, 1, 3, 3)
        .Input("big", F, 12, 1, 4, 5)
        .Input("w", F, 32, 16, 3, 3)
        .Input("b", F, 32)
        .Input("pw", F, 16, 12, 1, 1)
        .Node("Conv", ["x", "dw"], ["d"], Int("group", 12), Ints("pads", 1, 2, 1, 0), Ints("strides", 2, 1))
        .Node("Conv", ["x", "big"], ["g"], Int("group", 12), Ints("dilations", 1, 2))
        .Node("Conv", ["x", "pw"], ["p"])
        .Node("Conv", ["p", "w", "b"], ["y"], Ints("dilations", 2, 1), Ints("pads", 2, 1, 2, 1))
        .Output("d", F, "N", 12, 4, 9)
        .Output("g", F, "N", 12, 4, 1)
        .Output("y", F, "N", 32, 7, 9)
        .ToBytes());

    [Fact]
    public void Apply_RewritesDepthwiseAndDenseConvs_OutputsEqualThePlainConvs()
    {
        var model = Convs();
        var rewritten = NchwcConvs.Apply(model);
        if (NchwcConvs.BlockSize < 4)
        {
            // An ONNX Runtime build without NCHWc kernels: the session loads the graph as it is.
            Assert.Same(model, rewritten);
            return;
        }

        var nchwc = rewritten.Graph.Node.Where(n => n.Domain == NchwcConvs.Domain && n.OpType == "Conv").ToList();
        Assert.Equal(3, nchwc.Count);
        Assert.Single(rewritten.Graph.Node, n => n.OpType == "Conv" && n.Domain == "");
        Assert.DoesNotContain(model.Graph.Node, n => n.Domain == NchwcConvs.Domain);

        var feeds = new (string Name, long[] Shape)[] { ("x", [3, 12, 7, 9]), ("dw", [12, 1, 3, 3]), ("big", [12, 1, 4, 5]), ("w", [32, 16, 3, 3]), ("b", [32]), ("pw", [16, 12, 1, 1]) };
        var tensors = feeds.Select((f, i) => new KeyValuePair<string, Tensor>(f.Name,
            Tensor<float>.FromSpan(GradientCheckTests.Random((int)f.Shape.Aggregate(1L, (a, d) => a * d), 40 + i), f.Shape))).ToList();
        try
        {
            using var plain = InferenceSession.FromBytes(model.ToBytes());
            using var blocked = InferenceSession.FromBytes(rewritten.ToBytes());
            using var expected = plain.Run(tensors);
            using var actual = blocked.Run(tensors);
            for (var i = 0; i < expected.Count; i++)
            {
                var e = ((Tensor<float>)expected[i].Value).Span.ToArray();
                var a = ((Tensor<float>)actual[i].Value).Span.ToArray();
                Assert.Equal(expected[i].Value.Shape, actual[i].Value.Shape);
                var scale = e.Max(Math.Abs);
                for (var j = 0; j < e.Length; j++)
                {
                    Assert.True(Math.Abs(e[j] - a[j]) <= 1e-5f * scale, $"{expected[i].Key}[{j}]: {a[j]} vs {e[j]}");
                }
            }
        }
        finally
        {
            foreach (var t in tensors)
            {
                t.Value.Dispose();
            }
        }
    }

    /// <summary>
    /// PaddleOCR's classifier, every parameter trainable: all its depthwise Convs (forward, dX and the dY-kernel dW of
    /// each of the 11) run on NCHWc kernels. Each needs its input's channel count from shape inference, so an operator
    /// in the backward without a shape rule silently sends the Convs after it to the generic grouped Conv (MaxUnpool did,
    /// when the pool's backward used it).
    /// </summary>
    [Fact]
    public void Apply_PpocrStep_EveryDepthwiseConvOnNchwc()
    {
        var model = OnnxModel.Load(Path.Combine(RepoPaths.Fixture("graphs", "ppocr_cls"), "model.onnx"));
        var step = TrainingCompiler.Compile(model, new TrainingSpec { Trainable = ["*"] }).Step;
        var rewritten = NchwcConvs.Apply(step);
        if (NchwcConvs.BlockSize < 4)
        {
            Assert.Same(step, rewritten);
            return;
        }

        Assert.Equal(33, rewritten.Graph.Node.Count(n => n.Domain == NchwcConvs.Domain && n.OpType == "Conv" && Attr(n, "group") > 1));
        Assert.DoesNotContain(rewritten.Graph.Node, n => n.Domain == "" && n.OpType == "Conv" && Attr(n, "group") > 1);
    }

    private static long Attr(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? 1;
}

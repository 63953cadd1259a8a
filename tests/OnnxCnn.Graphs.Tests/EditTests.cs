using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

public class EditTests
{
    [Theory]
    [InlineData("torchvision_style", false)]
    [InlineData("keras_nhwc", true)]
    [InlineData("paddle_style", true)]
    public void Head_RealWorldGraph_NewClassesRunInOrt_KeepsConvention(string fixture, bool probabilities)
    {
        var model = Fixtures.Model(fixture);
        var outputName = model.Graph.Output[0].Name;
        var edited = HeadEdits.Replace(model, new HeadSpec { Classes = 3, Hidden = [8], Dropout = 0.25f, Seed = 1 });
        Assert.Equal(outputName, edited.Graph.Output[0].Name);
        new OnnxGraph(edited.Graph).Validate();
        using var input = Fixtures.Input(fixture);
        var (shape, values) = Fixtures.Run(edited, input);
        Assert.Equal([2L, 3], shape);
        for (var row = 0; row < 2; row++)
        {
            var sum = values.Skip(row * 3).Take(3).Sum();
            if (probabilities)
            {
                Assert.Equal(1f, sum, 1e-5f);
            }
        }

        Assert.Equal(probabilities, edited.Graph.Node.Any(n => n.OpType == "Softmax"));
        Assert.Equal(3, ShapeInference.Infer(edited)[outputName].Dims![1].Value);
    }

    [Fact]
    public void Head_Find_PaddleStyle_SeesThroughShapeChainReshape()
    {
        var head = HeadEdits.Find(Fixtures.Model("paddle_style"), out var reason);
        Assert.True(head is not null, reason);
        Assert.Equal(16, head.FeatureCount);
        Assert.Equal(4, head.Classes);
        Assert.Equal("Softmax", head.Activation?.OpType);
        Assert.Equal(["MatMul", "Add"], head.DenseNodes.Select(n => n.OpType));
    }

    [Fact]
    public void Head_SameSeed_SameWeights_OtherSeedDiffers()
    {
        var model = Fixtures.Model("torchvision_style");
        var a = HeadEdits.Replace(model, new HeadSpec { Classes = 4, Seed = 5 }).ToBytes();
        var b = HeadEdits.Replace(model, new HeadSpec { Classes = 4, Seed = 5 }).ToBytes();
        var c = HeadEdits.Replace(model, new HeadSpec { Classes = 4, Seed = 6 }).ToBytes();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Head_LinearDefaultInit_WithinFanInBound()
    {
        var edited = HeadEdits.Replace(Fixtures.Model("torchvision_style"), new HeadSpec { Classes = 4, Seed = 2 });
        var w = TensorData.FromProto(edited.Graph.Initializer.Single(t => t.Name == "head.0.weight"));
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(w.Bytes).ToArray();
        var bound = 1 / Math.Sqrt(w.Dims[1]);
        Assert.All(values, v => Assert.InRange(v, -bound, bound));
        Assert.True(values.Max() > bound * 0.8 && values.Min() < -bound * 0.8);
    }

    [Fact]
    public void Head_ModelEndingInConv_AsksForAPoolAndTheNamedPoolsWork()
    {
        var cut = GraphEdits.Cut(OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx")), FirstConvOutput());
        var e = Assert.Throws<ArgumentException>(() => HeadEdits.Replace(cut, new HeadSpec { Classes = 2 }));
        Assert.StartsWith("cannot put a head on this model: its output '", e.Message);
        Assert.Contains("choose how it becomes features: --pool gap", e.Message);
        Assert.Contains("or --pool flatten (C·H·W features).", e.Message);
        Assert.NotNull(HeadEdits.Find(HeadEdits.Replace(cut, new HeadSpec { Classes = 2, Pool = HeadPool.GlobalAverage }), out _));
        Assert.NotNull(HeadEdits.Find(HeadEdits.Replace(cut, new HeadSpec { Classes = 2, Pool = HeadPool.Flatten }), out _));
    }

    [Fact]
    public void Head_BadSpec_IsArgumentError()
    {
        var model = Fixtures.Model("torchvision_style");
        Assert.Equal("--classes must be at least 1, got 0.", Assert.Throws<ArgumentException>(() => HeadEdits.Replace(model, new HeadSpec { Classes = 0 })).Message);
        Assert.Equal("--dropout must be in [0, 1), got 1.", Assert.Throws<ArgumentException>(() => HeadEdits.Replace(model, new HeadSpec { Classes = 2, Dropout = 1 })).Message);
    }

    [Fact]
    public void Cut_WithGlobalPool_GivesBatchByChannels_AndRuns()
    {
        var model = OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        var cut = GraphEdits.Cut(model, FirstConvOutput(), globalPool: true);
        Assert.Equal("[batch,8]", ShapeInference.Infer(cut)[cut.Graph.Output[0].Name].ToString());
        using var input = Npy.Read(RepoPaths.Fixture("tiny_resnet", "input.npy"));
        var (shape, _) = Fixtures.Run(cut, input);
        Assert.Equal([2L, 8], shape);
        Assert.True(cut.Graph.Node.Count < model.Graph.Node.Count);
        Assert.True(cut.Graph.Initializer.Count < model.Graph.Initializer.Count);
    }

    [Fact]
    public void Cut_UnknownTensor_SuggestsNames()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.Cut(Fixtures.Model("torchvision_style"), "Relu"));
        Assert.StartsWith("model has no tensor 'Relu'; did you mean '", e.Message);
    }

    [Fact]
    public void DynamicBatch_FixedBatchReshape_RunsAtOtherBatch()
    {
        var b = new ModelBuilder()
            .Input("x", TensorProto.Types.DataType.Float, 1, 2, 2, 2)
            .Initializer("target", [1L, 8], 2)
            .Node("Relu", ["x"], ["r"])
            .Node("Reshape", ["r", "target"], ["y"])
            .Output("y", TensorProto.Types.DataType.Float, 1, 8);
        var dynamic = GraphEdits.DynamicBatch(OnnxModel.Load(b.ToBytes()));
        Assert.Equal("[batch,8]", ShapeInference.FromValueInfo(dynamic.Graph.Output[0]).ToString());
        using var input = Tensor<float>.Filled(1f, 3, 2, 2, 2);
        var (shape, _) = Fixtures.Run(dynamic, input);
        Assert.Equal([3L, 8], shape);
    }

    [Fact]
    public void Rename_InputAndOutput_RunsUnderNewNames()
    {
        var renamed = GraphEdits.Rename(Fixtures.Model("torchvision_style"),
            new Dictionary<string, string> { ["input"] = "image" }, new Dictionary<string, string> { ["logits"] = "scores" });
        using var session = InferenceSession.FromBytes(renamed.ToBytes());
        Assert.Equal("image", session.Inputs[0].Name);
        Assert.Equal("scores", session.Outputs[0].Name);
        using var input = Fixtures.Input("torchvision_style");
        using var result = session.Run(input);
        Assert.Equal(Fixtures.Expected("torchvision_style"), result["scores"].As<float>().ToArray(), new FloatTolerance(1e-4f));
    }

    [Fact]
    public void Rename_ToExistingName_IsRefused()
    {
        var model = Fixtures.Model("torchvision_style");
        var existing = model.Graph.Node[0].Output[0];
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.Rename(model, new Dictionary<string, string> { ["input"] = existing }, new Dictionary<string, string>()));
        Assert.Equal($"cannot rename 'input' to '{existing}': the model already has a tensor '{existing}'.", e.Message);
        Assert.StartsWith("model has no input 'nope'", Assert.Throws<InvalidOperationException>(() => GraphEdits.Rename(model, new Dictionary<string, string> { ["nope"] = "x" }, new Dictionary<string, string>())).Message);
    }

    [Fact]
    public void Extract_MiddleSubgraph_RunsFromItsNewInput()
    {
        var model = Fixtures.Model("keras_nhwc");
        var graph = new OnnxGraph(model.Graph);
        var order = graph.TopologicalOrder();
        var from = order[1].Output[0];
        var to = order[^3].Output[0];
        var extracted = GraphEdits.Extract(model, [from], [to]);
        var extractedGraph = new OnnxGraph(extracted.Graph);
        Assert.Equal(from, Assert.Single(extracted.Graph.Input, i => extractedGraph.Initializer(i.Name) is null).Name);
        var inputShape = ShapeInference.Infer(model)[from].Dims!.Select(d => d.IsKnown ? d.Value : 2).ToArray();
        using var input = Tensor<float>.Filled(0.5f, inputShape);
        var (shape, _) = Fixtures.Run(extracted, input);
        Assert.Equal(2, shape[0]);
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.Extract(model, [model.Graph.Output[0].Name], [to]));
        Assert.StartsWith("outputs depend on model input", e.Message);
    }

    [Fact]
    public void AppendSoftmax_Logits_BecomeProbabilitiesWithSameArgmax()
    {
        var model = Fixtures.Model("torchvision_style");
        var edited = GraphEdits.AppendSoftmax(model);
        Assert.Equal("logits", edited.Graph.Output[0].Name);
        using var input = Fixtures.Input("torchvision_style");
        var (_, probs) = Fixtures.Run(edited, input);
        var logits = Fixtures.Expected("torchvision_style");
        for (var row = 0; row < 2; row++)
        {
            var p = probs.Skip(row * 10).Take(10).ToArray();
            var l = logits.Skip(row * 10).Take(10).ToArray();
            Assert.Equal(1f, p.Sum(), 1e-5f);
            Assert.Equal(Array.IndexOf(l, l.Max()), Array.IndexOf(p, p.Max()));
        }

        Assert.Equal("output 'logits' already comes from a Softmax.", Assert.Throws<InvalidOperationException>(() => GraphEdits.AppendSoftmax(edited)).Message);
    }

    [Fact]
    public void Clean_Unshare_RemovesIdentityViews_OutputsUnchanged()
    {
        var model = Fixtures.Model("torchvision_style");
        Assert.Contains(model.Graph.Node, n => n.OpType == "Identity");
        var (cleaned, report) = GraphEdits.Clean(model, unshareIdentities: true);
        Assert.True(report.UnsharedIdentities >= 2);
        Assert.DoesNotContain(cleaned.Graph.Node, n => n.OpType == "Identity");
        Assert.Equal(ModelSummary.Create(model).TotalParams, ModelSummary.Create(cleaned).TotalParams);
        using var input = Fixtures.Input("torchvision_style");
        var (_, values) = Fixtures.Run(cleaned, input);
        Assert.Equal(Fixtures.Expected("torchvision_style"), values, new FloatTolerance(1e-4f));
    }

    [Fact]
    public void Clean_DeadNodesAndInitializerInputs_AreRemoved()
    {
        var b = new ModelBuilder()
            .Input("x", TensorProto.Types.DataType.Float, 2)
            .Input("w", TensorProto.Types.DataType.Float, 2)
            .Initializer("w", [1f, 2f], 2)
            .Initializer("unused", [3f], 1)
            .Node("Mul", ["x", "w"], ["y"])
            .Node("Relu", ["x"], ["dead"])
            .Output("y", TensorProto.Types.DataType.Float, 2);
        var (cleaned, report) = GraphEdits.Clean(OnnxModel.Load(b.ToBytes()));
        Assert.Equal(new GraphEdits.CleanReport(1, 1, 1, 0), report);
        Assert.Equal(["x"], cleaned.Graph.Input.Select(i => i.Name));
    }

    private static string FirstConvOutput()
    {
        var model = OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        return model.Graph.Node.First(n => n.OpType == "Conv").Output[0];
    }
}

/// <summary>Float equality within an absolute tolerance, for sequence comparisons.</summary>
internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

    public int GetHashCode(float obj) => 0;
}

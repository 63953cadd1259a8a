using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary>The edits Training needs on an exported model: a binary output's Sigmoid, metadata, trained weights.</summary>
public class OutputEditsTests
{
    private const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;

    private static OnnxModel Model(string? activation = null)
    {
        var builder = new ModelBuilder()
            .Input("x", F, "N", 3, 8, 8)
            .Initializer("w", new float[3 * 3 * 9], 3, 3, 3, 3)
            .Initializer("fc", [0.5f, -0.5f, 0.25f], 1, 3)
            .Node("Conv", ["x", "w"], ["c"], ModelBuilder.Ints("pads", 1, 1, 1, 1))
            .Node("GlobalAveragePool", ["c"], ["g"])
            .Node("Flatten", ["g"], ["f"]);
        builder = activation is null
            ? builder.Node("Gemm", ["f", "fc"], ["y"], ModelBuilder.Int("transB", 1))
            : builder.Node("Gemm", ["f", "fc"], ["z"], ModelBuilder.Int("transB", 1)).Node(activation, ["z"], ["y"]);
        return OnnxModel.Load(builder.Output("y", F, "N", 1).ToBytes());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Softmax")]
    [InlineData("Sigmoid")]
    public void AppendSigmoid_AnyHead_OutputKeepsItsNameAndComesFromOneSigmoid(string? activation)
    {
        var original = Model(activation);
        var edited = OutputEdits.AppendSigmoid(original);
        var graph = new OnnxGraph(edited.Graph);
        Assert.Equal("Sigmoid", graph.Producer("y")!.OpType);
        Assert.Single(edited.Graph.Node, n => n.OpType == "Sigmoid");
        Assert.DoesNotContain(edited.Graph.Node, n => n.OpType == "Softmax");
        Assert.Equal(activation is null ? 0 : 1, original.Graph.Node.Count(n => n.OpType is "Sigmoid" or "Softmax"));
    }

    [Fact]
    public void SetMetadata_ExistingKey_ReplacedOnce_OthersKept()
    {
        var model = Model();
        model.Proto.MetadataProps.Add(new StringStringEntryProto { Key = "a", Value = "old" });
        model.Proto.MetadataProps.Add(new StringStringEntryProto { Key = "keep", Value = "1" });
        var edited = OutputEdits.SetMetadata(model, new Dictionary<string, string> { ["a"] = "new", ["b"] = "2" });
        Assert.Equal(["keep=1", "a=new", "b=2"], edited.Proto.MetadataProps.Select(p => $"{p.Key}={p.Value}"));
        Assert.Equal(2, model.Proto.MetadataProps.Count);
    }

    [Fact]
    public void Substitute_Weights_NewValuesOthersUnchanged_BadNameOrSizeRefused()
    {
        var model = Model();
        var edited = WeightEdits.Substitute(model, new Dictionary<string, float[]> { ["fc"] = [1f, 2f, 3f] });
        Assert.Equal([1f, 2f, 3f], System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(TensorData.FromProto(edited.Graph.Initializer.First(t => t.Name == "fc")).Bytes).ToArray());
        Assert.Equal(model.Graph.Initializer.First(t => t.Name == "w"), edited.Graph.Initializer.First(t => t.Name == "w"));
        Assert.StartsWith("the model has no float initializer 'nope'.", Assert.Throws<ArgumentException>(() => WeightEdits.Substitute(model, new Dictionary<string, float[]> { ["nope"] = [1f] })).Message);
        Assert.StartsWith("initializer 'fc' holds 3 values; 2 were given.", Assert.Throws<ArgumentException>(() => WeightEdits.Substitute(model, new Dictionary<string, float[]> { ["fc"] = [1f, 2f] })).Message);
    }
}

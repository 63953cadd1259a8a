using Google.Protobuf;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

public class ModelIoTests
{
    [Fact]
    public void Save_ExternalData_RoundTripsAndRunsFromFile()
    {
        using var dir = new TempDir();
        var model = Fixtures.Model("torchvision_style");
        var path = dir.File("model.onnx");
        model.Save(path, new SaveOptions { ExternalData = true, ExternalThreshold = 64 });
        Assert.Single(ModelWriterTests.DataFiles(dir.Path));
        Assert.True(new FileInfo(path).Length < 4096, "weights should be in the data file");
        var loaded = OnnxModel.Load(path);
        Assert.Equal(model.Proto, loaded.Proto);
        // The in-memory model keeps its data inline after saving.
        Assert.All(model.Graph.Initializer, t => Assert.NotEqual(TensorProto.Types.DataLocation.External, t.DataLocation));
        using var session = Runtime.InferenceSession.Open(path);
        using var input = Fixtures.Input("torchvision_style");
        using var result = session.Run(input);
        Assert.Equal(Fixtures.Expected("torchvision_style"), result[0].Value.As<float>().ToArray(), new FloatTolerance(1e-4f));
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("sub/../../outside.bin")]
    [InlineData("/etc/passwd")]
    public void Load_ExternalDataOutsideFolder_IsRefused(string location)
    {
        using var dir = new TempDir();
        var path = WriteExternalModel(dir, location, offset: 0, length: 8);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Equal($"'{path}': tensor 'w' names external data '{location}' outside the model's folder; only relative paths inside it are allowed.", e.Message);
    }

    [Fact]
    public void Load_ExternalDataThroughLinkOutside_IsRefused()
    {
        using var outside = new TempDir();
        File.WriteAllBytes(outside.File("secret.bin"), new byte[8]);
        using var dir = new TempDir();
        File.CreateSymbolicLink(dir.File("weights.bin"), outside.File("secret.bin"));
        var path = WriteExternalModel(dir, "weights.bin", offset: 0, length: 8);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Contains("a link to", e.Message);
        Assert.Contains("outside the model's folder", e.Message);
    }

    [Fact]
    public void Load_ExternalDataBeyondFile_IsRefused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("weights.bin"), new byte[8]);
        var path = WriteExternalModel(dir, "weights.bin", offset: 4, length: 8);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Equal($"'{path}': tensor 'w' wants bytes 4..12 of 'weights.bin', which has 8.", e.Message);
    }

    [Fact]
    public void Load_ExternalDataWrongLength_IsRefused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("weights.bin"), new byte[16]);
        var path = WriteExternalModel(dir, "weights.bin", offset: 0, length: 12);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Equal($"'{path}': tensor 'w' has 12 bytes in 'weights.bin', but its shape needs 8.", e.Message);
    }

    [Fact]
    public void Load_ExternalDataMissingFile_IsRefused()
    {
        using var dir = new TempDir();
        var path = WriteExternalModel(dir, "nothere.bin", offset: 0, length: 8);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.StartsWith($"'{path}': tensor 'w' names external data file 'nothere.bin', which does not exist", e.Message);
    }

    [Fact]
    public void Load_Garbage_NamesFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("g.onnx"), [0xFF, 0xFF, 0xFF, 0xFF]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(dir.File("g.onnx")));
        Assert.StartsWith($"'{dir.File("g.onnx")}' is not an ONNX model (protobuf ModelProto expected):", e.Message);
    }

    [Fact]
    public void Load_Truncated_NamesFile()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        File.WriteAllBytes(dir.File("t.onnx"), bytes[..(bytes.Length / 3)]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(dir.File("t.onnx")));
        Assert.StartsWith($"'{dir.File("t.onnx")}' is not an ONNX model", e.Message);
    }

    [Fact]
    public void Load_TextFile_NamesFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("readme.onnx"), "hello");
        Assert.StartsWith($"'{dir.File("readme.onnx")}' is not an ONNX model", Assert.Throws<InvalidDataException>(() => OnnxModel.Load(dir.File("readme.onnx"))).Message);
    }

    [Fact]
    public void Validate_UndefinedInputAndCycle_AreNamed()
    {
        var undefined = new ModelBuilder().Input("x", TensorProto.Types.DataType.Float, 1)
            .Node("Add", ["x", "ghost"], ["y"]).Output("y", TensorProto.Types.DataType.Float, 1);
        var e = Assert.Throws<InvalidDataException>(() => new OnnxGraph(undefined.Graph).Validate());
        Assert.Equal("node 'Add_0' (Add) reads 'ghost', which nothing defines.", e.Message);

        var cycle = new ModelBuilder().Input("x", TensorProto.Types.DataType.Float, 1)
            .Node("Add", ["x", "b"], ["a"]).Node("Relu", ["a"], ["b"]).Output("b", TensorProto.Types.DataType.Float, 1);
        Assert.StartsWith("graph has a cycle through node", Assert.Throws<InvalidDataException>(() => new OnnxGraph(cycle.Graph).Validate()).Message);
    }

    [Fact]
    public void Validate_InitializerTypeDiffersFromDeclaredInput_IsNamed()
    {
        var b = new ModelBuilder().Input("x", TensorProto.Types.DataType.Float, 1).Input("w", TensorProto.Types.DataType.Float, 1)
            .Initializer("w", [1L], 1).Node("Add", ["x", "w"], ["y"]).Output("y", TensorProto.Types.DataType.Float, 1);
        var e = Assert.Throws<InvalidDataException>(() => new OnnxGraph(b.Graph).Validate());
        Assert.Equal("input 'w' is declared with element type 1, but its initializer has type 7.", e.Message);
    }

    [Fact]
    public void Validate_DuplicateNodeNamesAndProducers_AreNamed()
    {
        var b = new ModelBuilder().Input("x", TensorProto.Types.DataType.Float, 1)
            .Node("Relu", ["x"], ["y"]).Node("Relu", ["x"], ["y"]).Output("y", TensorProto.Types.DataType.Float, 1);
        Assert.StartsWith("tensor 'y' has more than one producer", Assert.Throws<InvalidDataException>(() => new OnnxGraph(b.Graph).Validate()).Message);
    }

    [Fact]
    public void ConstantOf_SeesThroughIdentityToConstantNode()
    {
        var model = Fixtures.Model("paddle_style");
        var graph = new OnnxGraph(model.Graph);
        var conv = model.Graph.Node.First(n => n.OpType == "Conv");
        Assert.NotNull(graph.ConstantOf(conv.Input[1]));
        Assert.Null(graph.ConstantOf(model.Graph.Input[0].Name));
    }

    private static string WriteExternalModel(TempDir dir, string location, long offset, long length)
    {
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(2);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var b = new ModelBuilder().Input("x", TensorProto.Types.DataType.Float, 2).Node("Mul", ["x", "w"], ["y"]).Output("y", TensorProto.Types.DataType.Float, 2);
        b.Graph.Initializer.Add(w);
        return b.Save(dir.File("model.onnx"));
    }
}

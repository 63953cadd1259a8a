using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary>Our onnx.proto against models and tensors written by others (PyTorch's exporter, ONNX's test data).</summary>
public class ProtoTests
{
    private const string ConformanceRoot = "/usr/share/libonnx-testdata/data/node";

    [Fact]
    public void PyTorchExport_ReadsAsPythonOnnxDoes()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(RepoPaths.Fixture("tiny_resnet", "model.onnx")));
        using var json = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("tiny_resnet", "structure.json")));
        var want = json.RootElement;
        Assert.Equal(want.GetProperty("irVersion").GetInt64(), model.IrVersion);
        Assert.Equal(want.GetProperty("producer").GetString(), model.ProducerName);
        Assert.Equal(want.GetProperty("opsets").GetProperty("ai.onnx").GetInt64(), model.OpsetImport.Single(o => o.Domain == "").Version);

        var nodes = want.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(nodes.Count, model.Graph.Node.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            var n = model.Graph.Node[i];
            Assert.Equal(nodes[i].GetProperty("op").GetString(), n.OpType);
            Assert.Equal(nodes[i].GetProperty("inputs").EnumerateArray().Select(e => e.GetString()), n.Input);
            Assert.Equal(nodes[i].GetProperty("outputs").EnumerateArray().Select(e => e.GetString()), n.Output);
            Assert.Equal(nodes[i].GetProperty("attributes").EnumerateArray().Select(e => e.GetString()), n.Attribute.Select(a => a.Name).Order(StringComparer.Ordinal));
        }

        var input = want.GetProperty("inputs")[0];
        var dims = model.Graph.Input[0].Type.TensorType.Shape.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Equal(input.GetProperty("dims")[3].GetInt64(), dims[3].DimValue);

        var initializers = want.GetProperty("initializers").EnumerateArray().ToList();
        Assert.Equal(initializers.Count, model.Graph.Initializer.Count);
        for (var i = 0; i < initializers.Count; i++)
        {
            var data = TensorData.FromProto(model.Graph.Initializer[i]);
            Assert.Equal(initializers[i].GetProperty("name").GetString(), data.Name);
            Assert.Equal(initializers[i].GetProperty("dims").EnumerateArray().Select(e => e.GetInt64()), data.Dims);
            var sum = MemoryMarshal.Cast<byte, float>(data.Bytes).ToArray().Sum(v => (double)v);
            Assert.Equal(initializers[i].GetProperty("sum").GetDouble(), sum, 1e-4);
        }
    }

    [Fact]
    public void ConformanceModels_RoundTrip_ParseEqual()
    {
        Assert.True(Directory.Exists(ConformanceRoot), $"{ConformanceRoot} is missing: apt-get install -y libonnx-testdata");
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(ConformanceRoot, "model.onnx", SearchOption.AllDirectories))
        {
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
            var again = ModelProto.Parser.ParseFrom(model.ToByteArray());
            Assert.Equal(model, again);
            Assert.True(model.Graph.Node.Count > 0, file);
            count++;
        }

        Assert.True(count > 900, $"only {count} models");
    }

    [Fact]
    public void TensorData_TypedFieldsAndRawData_DecodeAlike()
    {
        var typed = new TensorProto { Name = "t", DataType = (int)TensorProto.Types.DataType.Float };
        typed.Dims.Add([2, 2]);
        typed.FloatData.Add([1f, -2f, 3.5f, 0f]);
        var raw = new TensorProto { Name = "t", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes<float>([1f, -2f, 3.5f, 0f])) };
        raw.Dims.Add([2, 2]);
        Assert.Equal(TensorData.FromProto(raw).Bytes, TensorData.FromProto(typed).Bytes);

        var ints = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int8 };
        ints.Dims.Add(3);
        ints.Int32Data.Add([-1, 5, 127]);
        Assert.Equal([0xFF, 5, 127], TensorData.FromProto(ints).Bytes);

        var halves = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float16 };
        halves.Dims.Add(1);
        halves.Int32Data.Add(BitConverter.HalfToUInt16Bits((Half)1.5));
        Assert.Equal((Half)1.5, BitConverter.ToHalf(TensorData.FromProto(halves).Bytes));
    }

    [Fact]
    public void TensorData_WrongLength_NamesTensor()
    {
        var t = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[7]) };
        t.Dims.Add(2);
        var e = Assert.Throws<InvalidDataException>(() => TensorData.FromProto(t, "m.onnx"));
        Assert.Equal("m.onnx: tensor 'w' holds 7 bytes, but its shape [2] of Float needs 8.", e.Message);
    }

    [Fact]
    public void TensorData_GarbageFile_NamesFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x.pb"), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        var e = Assert.Throws<InvalidDataException>(() => TensorData.ReadFile(dir.File("x.pb")));
        Assert.StartsWith($"'{dir.File("x.pb")}' is not a serialized ONNX TensorProto:", e.Message);
    }
}

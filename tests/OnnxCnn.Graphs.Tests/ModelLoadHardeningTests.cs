using Google.Protobuf;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary>Regression tests for what fuzzing ONNX loading with external data found.</summary>
public class ModelLoadHardeningTests
{
    [Fact]
    public void Load_ExternalLocationWithANulCharacter_IsInvalidData()
    {
        // Was an ArgumentException ("Null character in path") from Path.GetFullPath.
        using var dir = new TempDir();
        var path = Save(dir, External("w\0eights.bin", [4]));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Equal($"'{path}': tensor 'W' names external data with a control character in its location; a location is a relative file name.", e.Message);
    }

    [Fact]
    public void Load_ExternalDataKeyGivenTwice_IsInvalidData()
    {
        // Was an ArgumentException from ToDictionary (found fuzzing checkpoint loading).
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("weights.bin"), new byte[16]);
        var model = External("weights.bin", [4]);
        model.Graph.Initializer[0].ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "0" });
        model.Graph.Initializer[0].ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "4" });
        var path = Save(dir, model);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Equal($"'{path}': tensor 'W' gives external data key 'offset' twice.", e.Message);
    }

    [Fact]
    public void Load_ExternalTensorWhoseShapeOverflows_IsInvalidData()
    {
        // The element count overflowed (unchecked) before being multiplied (checked): an OverflowException, or a wrong size.
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("weights.bin"), new byte[16]);
        var path = Save(dir, External("weights.bin", [1L << 40, 1L << 40]));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Equal($"'{path}': tensor 'W' has shape [1099511627776,1099511627776], more elements than one tensor can hold.", e.Message);
    }

    [Fact]
    public void Load_ExternalTensorWithANegativeDimension_IsInvalidData()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("weights.bin"), new byte[16]);
        var path = Save(dir, External("weights.bin", [-2, -2]));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Contains("has shape [-2,-2] with a negative dimension", e.Message);
    }

    [Fact]
    public void FromProto_ShapeFarLargerThanItsValues_RefusedBeforeAllocating()
    {
        // 4·10^8 floats declared with two values present: the 1.6 GB buffer was allocated before the count was compared.
        var proto = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.Add([20_000, 20_000]);
        proto.FloatData.Add([1f, 2f]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => TensorData.FromProto(proto, "m.onnx"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated for the declared shape");
        Assert.Equal("m.onnx: tensor 'W' holds 8 bytes of values, but its shape [20000,20000] of Float needs 1600000000.", e.Message);

        proto.Dims.Clear();
        proto.Dims.Add([50_000, 40_000]);
        e = Assert.Throws<InvalidDataException>(() => TensorData.FromProto(proto, "m.onnx"));
        Assert.Equal("m.onnx: tensor 'W' of shape [50000,40000] needs 8000000000 bytes, more than one tensor can hold.", e.Message);
    }

    [Fact]
    public void FromProto_ShapeWhoseElementCountOverflows_IsInvalidData()
    {
        var proto = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[8]) };
        proto.Dims.Add([1L << 40, 1L << 40]);
        var e = Assert.Throws<InvalidDataException>(() => TensorData.FromProto(proto, "m.onnx"));
        Assert.Contains("more elements than one tensor can hold", e.Message);
    }

    private static ModelProto External(string location, long[] dims)
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var w = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(dims);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        model.Graph.Initializer.Add(w);
        return model;
    }

    private static string Save(TempDir dir, ModelProto model)
    {
        var path = dir.File("model.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}

using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary>A model and its external data are written as one unit: no save leaves a model pointing at other bytes.</summary>
public class ModelWriterTests
{
    private static readonly SaveOptions External = new() { ExternalData = true, ExternalThreshold = 64 };

    public static string[] DataFiles(string dir) => Directory.GetFiles(dir, "*.data").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Save_ExternalData_NamesTheDataFileByItsContent()
    {
        using var dir = new TempDir();
        var model = Fixtures.Model("torchvision_style");
        model.Save(dir.File("a.onnx"), External);
        model.Save(dir.File("b.onnx"), External);

        var a = Assert.Single(Directory.GetFiles(dir.Path, "a.onnx.*.data"));
        var b = Assert.Single(Directory.GetFiles(dir.Path, "b.onnx.*.data"));
        Assert.Matches(@"^a\.onnx\.[0-9a-f]{16}\.data$", Path.GetFileName(a));
        Assert.Equal(Path.GetFileName(a)[7..], Path.GetFileName(b)[7..]);
        Assert.Equal(File.ReadAllBytes(dir.File("a.onnx")).Length, File.ReadAllBytes(dir.File("b.onnx")).Length);
    }

    [Fact]
    public void Save_OverAModelWithOtherData_ReplacesThePairAndRemovesTheOldData()
    {
        using var dir = new TempDir();
        var path = dir.File("model.onnx");
        var first = Fixtures.Model("torchvision_style");
        first.Save(path, External);
        var oldData = Assert.Single(DataFiles(dir.Path));

        var second = Reinitializer.Reinitialize(first, seed: 5).Model;
        second.Save(path, External);

        var newData = Assert.Single(DataFiles(dir.Path));
        Assert.NotEqual(oldData, newData);
        Assert.Equal(second.Proto, OnnxModel.Load(path).Proto);
    }

    [Fact]
    public void Save_InlineOverExternal_RemovesTheDataFileTheOldModelUsed()
    {
        using var dir = new TempDir();
        var path = dir.File("model.onnx");
        var model = Fixtures.Model("torchvision_style");
        model.Save(path, External);
        Assert.Single(DataFiles(dir.Path));

        model.Save(path);

        Assert.Empty(DataFiles(dir.Path));
        Assert.Equal(model.Proto, OnnxModel.Load(path).Proto);
    }

    [Fact]
    public void Save_AfterASaveKilledBeforeItsCommit_OldModelStillLoads_AndTheNextSaveRemovesTheOrphan()
    {
        using var dir = new TempDir();
        var path = dir.File("model.onnx");
        var first = Fixtures.Model("torchvision_style");
        first.Save(path, External);

        // What a kill between the data's rename and the model's leaves: the new data file under its
        // own name and the model's temporary file; the committed model still reads its own data.
        using (var scratch = new TempDir())
        {
            Reinitializer.Reinitialize(first, seed: 9).Model.Save(Path.Combine(scratch.Path, "model.onnx"), External);
            var orphan = Assert.Single(DataFiles(scratch.Path));
            File.Copy(Path.Combine(scratch.Path, orphan), dir.File(orphan));
            File.Copy(Path.Combine(scratch.Path, "model.onnx"), path + ".tmp");
        }

        Assert.Equal(2, DataFiles(dir.Path).Length);
        Assert.Equal(first.Proto, OnnxModel.Load(path).Proto);

        var third = Reinitializer.Reinitialize(first, seed: 13).Model;
        third.Save(path, External);
        Assert.Single(DataFiles(dir.Path));
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(third.Proto, OnnxModel.Load(path).Proto);
    }

    [Fact]
    public void Save_LeavesOtherModelsDataAlone()
    {
        using var dir = new TempDir();
        var model = Fixtures.Model("torchvision_style");
        model.Save(dir.File("model.onnx.v2.onnx"), External);
        model.Save(dir.File("model.onnx"), External);
        Reinitializer.Reinitialize(model, seed: 2).Model.Save(dir.File("model.onnx"), External);

        Assert.Equal(model.Proto, OnnxModel.Load(dir.File("model.onnx.v2.onnx")).Proto);
        Assert.Equal(2, DataFiles(dir.Path).Length);
    }

    [Fact]
    public void Save_ExternalWithoutLargeTensors_WritesNoDataFile()
    {
        using var dir = new TempDir();
        var model = Fixtures.Model("torchvision_style");
        model.Save(dir.File("m.onnx"), new SaveOptions { ExternalData = true, ExternalThreshold = int.MaxValue });

        Assert.Empty(DataFiles(dir.Path));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        Assert.All(OnnxModel.Load(dir.File("m.onnx")).Graph.Initializer, t => Assert.NotEqual(TensorProto.Types.DataLocation.External, t.DataLocation));
    }
}

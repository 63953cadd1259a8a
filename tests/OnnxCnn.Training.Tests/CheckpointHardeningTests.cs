using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// Checkpoints are files a resumed run reads back: a damaged one is one clear error naming it, and
/// leaves the session as it was (found by reading the loader while writing its fuzz target).
/// </summary>
public class CheckpointHardeningTests
{
    private static readonly TrainingSpec Spec = new() { Trainable = ["*"] };

    [Fact]
    public void LoadCheckpoint_TensorStoredTwice_IsInvalidData()
    {
        // Was an ArgumentException from ToDictionary.
        using var dir = new TempDir();
        using var session = TrainingSession.Create(Model(), Spec);
        var path = Edited(session, dir, m => m.Graph.Initializer.Add(m.Graph.Initializer[0].Clone()));
        var e = Assert.Throws<InvalidDataException>(() => session.LoadCheckpoint(path));
        Assert.Equal($"checkpoint '{path}' holds '{OnnxModel.Load(path).Graph.Initializer[0].Name}' twice.", e.Message);
    }

    [Fact]
    public void LoadCheckpoint_MetadataKeyTwice_IsInvalidData()
    {
        using var dir = new TempDir();
        using var session = TrainingSession.Create(Model(), Spec);
        var path = Edited(session, dir, m => m.MetadataProps.Add(new StringStringEntryProto { Key = "epoch", Value = "9" }));
        var e = Assert.Throws<InvalidDataException>(() => session.LoadCheckpoint(path));
        Assert.Equal($"checkpoint '{path}' has metadata key 'epoch' twice.", e.Message);
    }

    [Theory]
    [InlineData("three")]
    [InlineData("-1")]
    [InlineData("99999999999")]
    public void LoadCheckpoint_StepCountNotANumber_IsInvalidDataAndLeavesTheSessionAsItWas(string step)
    {
        // Was a FormatException/OverflowException from int.Parse, after the parameters had been replaced.
        using var dir = new TempDir();
        using var session = TrainingSession.Create(Model(), Spec);
        var path = Edited(session, dir, m =>
        {
            m.MetadataProps.Single(p => p.Key == TrainingSession.StepMetadataKey).Value = step;
            var raw = m.Graph.Initializer[0].RawData.ToByteArray();
            raw[0] ^= 0xFF;
            m.Graph.Initializer[0].RawData = Google.Protobuf.ByteString.CopyFrom(raw);
        });
        var name = OnnxModel.Load(path).Graph.Initializer[0].Name;
        var before = session.Parameter(name).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => session.LoadCheckpoint(path));
        Assert.Equal($"checkpoint '{path}' has step count '{step}' in '{TrainingSession.StepMetadataKey}', not a non-negative number.", e.Message);
        Assert.Equal(before, session.Parameter(name).ToArray());
        Assert.Equal(0, session.StepCount);
    }

    private static OnnxModel Model() => OnnxModel.Load(RepoPaths.Fixture("training", "small_mlp_adam", "model.onnx"));

    /// <summary>Saves a checkpoint of the session, applies an edit to it, writes it back.</summary>
    private static string Edited(TrainingSession session, TempDir dir, Action<ModelProto> edit)
    {
        var path = dir.File("checkpoint.onnx");
        session.SaveCheckpoint(path, new Dictionary<string, string> { ["epoch"] = "1" });
        var model = OnnxModel.Load(path);
        edit(model.Proto);
        model.Save(path);
        return path;
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>Resuming from a checkpoint whose epoch is missing or damaged is one clear error, not a KeyNotFoundException or FormatException.</summary>
public class ResumeHardeningTests
{
    private static OnnxModel TinyResNet => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    private static FineTuneOptions Options(int epochs) => new()
    {
        NewHeadClasses = 2, Epochs = epochs, BatchSize = 4, LearningRate = 0.05f, Seed = 3, ValidationSplit = 0,
        Preprocess = PreprocessSpec.Parse("resize=32x32,scale=1/255"),
    };

    [Theory]
    [InlineData(null, "no epoch in its metadata")]
    [InlineData("one", "epoch 'one' in its metadata, not an epoch of this run")]
    [InlineData("-1", "epoch '-1' in its metadata, not an epoch of this run")]
    public async Task Resume_CheckpointEpochMissingOrDamaged_IsInvalidDataNamingTheCheckpoint(string? epoch, string why)
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 4);
        var run = dir.File("run");
        await FineTuner.RunAsync(TinyResNet, data, Options(1), run);
        var checkpoint = Path.Combine(run, "artifacts", "checkpoint.onnx");
        var model = OnnxModel.Load(checkpoint);
        var entry = model.Proto.MetadataProps.Single(p => p.Key == "epoch");
        if (epoch is null)
        {
            model.Proto.MetadataProps.Remove(entry);
        }
        else
        {
            entry.Value = epoch;
        }

        model.Save(checkpoint);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => FineTuner.RunAsync(TinyResNet, data, Options(2) with { Resume = true }, run));
        Assert.Equal($"cannot resume: checkpoint '{checkpoint}' has {why}.", e.Message);
    }
}

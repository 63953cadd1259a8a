using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// What a run killed at an awkward moment leaves behind, and how resume treats it: a step log cut
/// inside a line, a kill between epochs of an early-stopping run, a kill after early stopping ended it.
/// </summary>
public class CheckpointKillTests
{
    private const int Epochs = 12;

    private static OnnxModel TinyResNet => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    private static FineTuneOptions Options(int epochs) => new()
    {
        NewHeadClasses = 2, Epochs = epochs, BatchSize = 4, LearningRate = 0.05f, Seed = 3, ValidationSplit = 0,
        Preprocess = PreprocessSpec.Parse("resize=32x32,scale=1/255"),
        Spec = new TrainingSpec { Momentum = 0.9f },
    };

    /// <summary>An aggressive rate over everything: the validation loss stops improving within a few epochs.</summary>
    private static FineTuneOptions EarlyStopping(int epochs) => Options(epochs) with
    {
        ValidationSplit = 0.25, EarlyStoppingPatience = 2, LearningRate = 0.2f, Spec = new TrainingSpec { Momentum = 0.9f, Trainable = ["*"] },
    };

    /// <summary>history.csv without its wall-clock column (the returned history of a resumed run holds the file's rounded rates).</summary>
    private static string[] HistoryWithoutSeconds(string run) =>
        File.ReadAllLines(Path.Combine(run, "history.csv")).Select(l => l[..l.LastIndexOf(',')]).ToArray();

    private static Dictionary<string, string> Weights(string modelPath) =>
        OnnxModel.Load(modelPath).Graph.Initializer.ToDictionary(t => t.Name, t => Convert.ToHexString(t.RawData.Span));

    [Fact]
    public async Task StepLog_KillCutTheLineAfterTheCheckpoint_ResumeDropsThePartialLine()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 6);
        await FineTuner.RunAsync(TinyResNet, data, Options(4) with { StepLog = dir.File("full.csv") }, dir.File("full"));
        await FineTuner.RunAsync(TinyResNet, data, Options(3) with { StepLog = dir.File("part.csv") }, dir.File("part"));

        // The checkpoint ends at step 9; the kill cut step 10's line after its first digit ("1" reads as step 1).
        File.AppendAllText(dir.File("part.csv"), "1");
        await FineTuner.RunAsync(TinyResNet, data, Options(4) with { StepLog = dir.File("part.csv"), Resume = true }, dir.File("part"));
        Assert.Equal(File.ReadAllLines(dir.File("full.csv")), File.ReadAllLines(dir.File("part.csv")));
    }

    [Fact]
    public async Task EarlyStopping_KilledOneEpochBeforeTheStop_ResumeStopsAtTheSameEpoch()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var full = await FineTuner.RunAsync(TinyResNet, data, EarlyStopping(Epochs), dir.File("full"));
        Assert.InRange(full.Count, 3, Epochs - 1);

        // Killed after the checkpoint of the epoch before the stop: one epoch without improvement is already counted.
        await FineTuner.RunAsync(TinyResNet, data, EarlyStopping(full.Count - 1), dir.File("part"));
        var resumed = await FineTuner.RunAsync(TinyResNet, data, EarlyStopping(Epochs) with { Resume = true }, dir.File("part"));
        Assert.Equal(full.Count, resumed.Count);
        Assert.Equal(HistoryWithoutSeconds(dir.File("full")), HistoryWithoutSeconds(dir.File("part")));
        Assert.Equal(Weights(Path.Combine(dir.File("full"), "model.onnx")), Weights(Path.Combine(dir.File("part"), "model.onnx")));
    }

    [Fact]
    public async Task EarlyStopping_KilledWhileExporting_ResumeTrainsNoFurther()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var run = dir.File("run");
        var history = await FineTuner.RunAsync(TinyResNet, data, EarlyStopping(Epochs), run);
        Assert.InRange(history.Count, 3, Epochs - 1);
        var exported = Weights(Path.Combine(run, "model.onnx"));
        var csv = HistoryWithoutSeconds(run);

        // A kill after the stop, before the exported model and metrics were written.
        File.Delete(Path.Combine(run, "model.onnx"));
        File.Delete(Path.Combine(run, "metrics.json"));
        var resumed = await FineTuner.RunAsync(TinyResNet, data, EarlyStopping(Epochs) with { Resume = true }, run);
        Assert.Equal(history.Count, resumed.Count);
        Assert.Equal(csv, HistoryWithoutSeconds(run));
        Assert.Equal(exported, Weights(Path.Combine(run, "model.onnx")));
        Assert.True(File.Exists(Path.Combine(run, "metrics.json")));
    }
}

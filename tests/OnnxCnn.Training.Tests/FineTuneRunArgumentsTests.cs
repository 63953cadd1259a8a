using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>What a run is given apart from its model: settings (a comparable, printable record), data, and how it executes (the one progress channel).</summary>
public class FineTuneRunArgumentsTests
{
    private static OnnxModel TinyResNet => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    private static FineTuneOptions Settings(List<int> hidden, List<string> trainable) => new()
    {
        NewHeadClasses = 2, Hidden = hidden, InputSize = (64, 64), Augment = AugmentSpec.Parse("hflip"),
        Spec = new TrainingSpec
        {
            Trainable = trainable, ClassWeights = new[] { 1f, 2f },
            LearningRateGroups = [new LearningRateGroup("head", new List<string> { "fc*" }, 10)],
        },
        SecondStage = new TwoStageOptions { Trainable = new List<string> { "layer3*" }, Epochs = 2 },
    };

    [Fact]
    public void Options_SameSettingsFromSeparateLists_EqualWithTheSameHash()
    {
        var a = Settings([256], ["layer4*"]);
        var b = Settings([256], ["layer4*"]);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, a with { Hidden = [128] });
        Assert.NotEqual(a, a with { Spec = a.Spec with { Trainable = ["layer3*"] } });
        Assert.NotEqual(a, a with { SecondStage = a.SecondStage! with { Trainable = [] } });
        Assert.Equal(a, a with { Hidden = [256] });
    }

    [Fact]
    public void Options_ToString_PrintsEverySettingWithListItems()
    {
        var text = Settings([256, 64], ["layer4*"]).ToString();
        Assert.StartsWith("FineTuneOptions { ", text, StringComparison.Ordinal);
        Assert.Contains("Hidden = [256, 64]", text, StringComparison.Ordinal);
        Assert.Contains("Trainable = [layer4*]", text, StringComparison.Ordinal);
        Assert.Contains("Globs = [fc*]", text, StringComparison.Ordinal);
        Assert.Contains("ClassWeights = [1, 2]", text, StringComparison.Ordinal);
        Assert.Contains("InputSize = (64, 64)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_ListChangedAfterwards_SettingsUnchanged()
    {
        var hidden = new List<int> { 256 };
        var trainable = new List<string> { "layer4*" };
        var options = Settings(hidden, trainable);
        hidden.Add(7);
        trainable.Clear();
        Assert.Equal([256], options.Hidden);
        Assert.Equal(["layer4*"], options.Spec.Trainable);
        Assert.Equal(Settings([256], ["layer4*"]), options);
    }

    [Fact]
    public void Data_FromATrainingSet_HasNoValidationSet_NullTrainingSetThrows()
    {
        using var dir = new TempDir();
        var train = FineTuneWorkflowTests.MakeDataset(dir, 1);
        FineTuneData data = train;
        Assert.Same(train, data.Train);
        Assert.Null(data.Validation);
        Assert.Throws<ArgumentNullException>(() => new FineTuneData(null!));
    }

    /// <summary>Records every report with what was on disk when it came.</summary>
    private sealed class Recorder(string run) : IProgress<FineTuneProgress>
    {
        public List<(FineTuneProgress Report, int HistoryRows, bool Checkpoint)> Seen { get; } = [];

        public void Report(FineTuneProgress value)
        {
            var history = Path.Combine(run, "history.csv");
            Seen.Add((value, File.Exists(history) ? File.ReadAllLines(history).Length - 1 : 0, File.Exists(Path.Combine(run, "artifacts", "checkpoint.onnx"))));
        }
    }

    [Fact]
    public async Task Progress_EpochEnd_ComesAfterItsStepsWrittenAndCheckpointed_WithTheEpochsResult()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 6);
        var run = dir.File("run");
        var recorder = new Recorder(run);
        var options = new FineTuneOptions
        {
            NewHeadClasses = 2, Epochs = 2, BatchSize = 4, LearningRate = 0.05f, Seed = 3, ValidationSplit = 0.25,
            Preprocess = PreprocessSpec.Parse("resize=32x32,scale=1/255"), Spec = new TrainingSpec { Momentum = 0.9f },
        };
        var history = await FineTuner.RunAsync(TinyResNet, data, options, run, new FineTuneExecution { Progress = recorder });

        // 8 training images (a quarter of each class's 6, rounded, held out) in batches of 4: 2 steps, then the report that ends the epoch.
        Assert.Equal([false, false, true, false, false, true], recorder.Seen.Select(s => s.Report.IsEpochEnd));
        var ends = recorder.Seen.Where(s => s.Report.IsEpochEnd).ToList();
        Assert.Equal(history, ends.Select(s => s.Report.Completed));
        Assert.Equal([1, 2], ends.Select(s => s.HistoryRows));
        Assert.All(ends, s =>
        {
            var (end, lastStep) = (s.Report, recorder.Seen[recorder.Seen.IndexOf(s) - 1].Report);
            Assert.True(s.Checkpoint);
            Assert.Equal((lastStep.Epoch, lastStep.Batch, lastStep.Batches, lastStep.Images, lastStep.Loss), (end.Epoch, end.Batch, end.Batches, end.Images, end.Loss));
            Assert.Equal(end.Completed!.TrainLoss, end.Loss, 12);
            Assert.False(double.IsNaN(end.Completed.ValidationLoss));
            Assert.Equal(TimeSpan.Zero, end.Remaining);
        });
    }
}

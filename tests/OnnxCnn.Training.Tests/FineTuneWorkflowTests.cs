using System.Globalization;
using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>The fine-tune workflow: step log, progress reports, two stages, K folds.</summary>
public class FineTuneWorkflowTests
{
    private const string Stage2Tensor = "/layer1/relu_1/Relu_output_0";

    private static OnnxModel TinyResNet => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    /// <summary>Two classes of noisy 24×24 PNGs: reddish and bluish.</summary>
    internal static ImageDataset MakeDataset(TempDir dir, int perClass)
    {
        var root = Path.Combine(dir.Path, "data");
        var random = new Random(5);
        foreach (var (name, channel) in new[] { ("blue", 2), ("red", 0) })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (var i = 0; i < perClass; i++)
            {
                using var image = RgbImage.Create(24, 24);
                var px = image.Pixels;
                for (var p = 0; p < px.Length; p++)
                {
                    px[p] = (byte)(p % 3 == channel ? random.Next(120, 256) : random.Next(0, 140));
                }

                PngEncoder.Save(image, Path.Combine(root, name, $"{i:D2}.png"));
            }
        }

        return ImageDataset.FromFolder(root);
    }

    private static FineTuneOptions Options(int epochs = 2) => new()
    {
        NewHeadClasses = 2, Epochs = epochs, BatchSize = 4, LearningRate = 0.05f, Seed = 3, ValidationSplit = 0,
        Preprocess = PreprocessSpec.Parse("resize=32x32,scale=1/255"),
        Spec = new TrainingSpec { Momentum = 0.9f },
    };

    private static string[][] ReadCsv(string path) => File.ReadAllLines(path).Select(l => l.Split(',')).ToArray();

    private static Dictionary<string, float[]> Weights(string modelPath) =>
        OnnxModel.Load(modelPath).Graph.Initializer.ToDictionary(t => t.Name, t => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(TensorData.FromProto(t).Bytes).ToArray());

    /// <summary>The parameters (initializer inputs) of the nodes whose names start with <paramref name="prefix"/>.</summary>
    private static HashSet<string> ParametersOf(string prefix)
    {
        var model = TinyResNet;
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        return model.Graph.Node.Where(n => n.Name.StartsWith(prefix, StringComparison.Ordinal)).SelectMany(n => n.Input).Where(initializers.Contains).ToHashSet();
    }

    /// <summary>The one progress channel, sorted: step reports, and the reports that end an epoch.</summary>
    private sealed class Collect : IProgress<FineTuneProgress>
    {
        public List<FineTuneProgress> Reports { get; } = [];

        public List<FineTuneProgress> EpochEnds { get; } = [];

        public void Report(FineTuneProgress value) => (value.IsEpochEnd ? EpochEnds : Reports).Add(value);
    }

    [Fact]
    public async Task StepLog_TwoEpochs_OneLinePerStep_MeansMatchHistory()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 6);
        var log = dir.File("steps.csv");
        var history = await FineTuner.RunAsync(TinyResNet, data, Options() with { StepLog = log }, dir.File("run"));
        var rows = ReadCsv(log);
        Assert.Equal(["step", "loss"], rows[0]);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => i.ToString(CultureInfo.InvariantCulture)), rows.Skip(1).Select(r => r[0]));
        var losses = rows.Skip(1).Select(r => double.Parse(r[1], CultureInfo.InvariantCulture)).ToArray();
        // 12 images in batches of 4: an epoch's loss is the plain mean of its 3 steps.
        Assert.Equal(history[0].TrainLoss, losses[..3].Average(), 6);
        Assert.Equal(history[1].TrainLoss, losses[3..].Average(), 6);
    }

    [Fact]
    public async Task StepLog_Resume_ContinuesTheFile_AndDropsStepsAfterTheCheckpoint()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 6);
        await FineTuner.RunAsync(TinyResNet, data, Options(4) with { StepLog = dir.File("full.csv") }, dir.File("full"));
        await FineTuner.RunAsync(TinyResNet, data, Options(2) with { StepLog = dir.File("part.csv") }, dir.File("part"));
        // A kill during epoch 3 leaves a step the checkpoint (end of epoch 2) does not have.
        File.AppendAllText(dir.File("part.csv"), "7,0.123\n");
        await FineTuner.RunAsync(TinyResNet, data, Options(4) with { StepLog = dir.File("part.csv"), Resume = true }, dir.File("part"));
        Assert.Equal(File.ReadAllLines(dir.File("full.csv")), File.ReadAllLines(dir.File("part.csv")));
        Assert.Equal(13, File.ReadAllLines(dir.File("part.csv")).Length);
    }

    [Fact]
    public async Task Progress_EveryStep_ReportsBatchEpochAndRunningNumbers()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 6);
        var sink = new Collect();
        var history = await FineTuner.RunAsync(TinyResNet, data, Options(), dir.File("run"), new FineTuneExecution { Progress = sink });
        Assert.Equal(6, sink.Reports.Count);
        Assert.Equal([1, 2, 3, 1, 2, 3], sink.Reports.Select(r => r.Batch));
        Assert.Equal([1, 1, 1, 2, 2, 2], sink.Reports.Select(r => r.Epoch));
        Assert.All(sink.Reports, r =>
        {
            Assert.Equal((2, 3, 1, 0), (r.Epochs, r.Batches, r.Stage, r.Fold));
            Assert.Equal(r.Batch * 4, r.Images);
            Assert.True(r.ImagesPerSecond > 0 && r.Remaining >= TimeSpan.Zero && r.Accuracy is >= 0 and <= 1);
        });
        Assert.Equal(TimeSpan.Zero, sink.Reports[2].Remaining);
        // The last report of an epoch carries the epoch's numbers.
        Assert.Equal(history[0].TrainLoss, sink.Reports[2].Loss, 12);
        Assert.Equal(history[1].TrainAccuracy, sink.Reports[5].Accuracy, 12);
    }

    [Fact]
    public async Task TwoStage_Stage2AtRateZero_StartsFromStage1HeadExactly()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 6);
        var outDir = dir.File("run");
        var sink = new Collect();
        var options = Options() with
        {
            StepLog = dir.File("steps.csv"),
            SecondStage = new TwoStageOptions { UnfreezeFrom = Stage2Tensor, Epochs = 2, LearningRate = 0 },
        };
        var history = await FineTuner.RunAsync(TinyResNet, data, options, outDir, new FineTuneExecution { Progress = sink });
        Assert.Equal([1, 2, 3, 4], history.Select(h => h.Epoch));
        Assert.Equal([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2], sink.Reports.Select(r => r.Stage));
        Assert.Equal([(1, 1), (1, 2), (2, 3), (2, 4)], sink.EpochEnds.Select(r => (r.Stage, r.Completed!.Epoch)));
        Assert.Equal(history, sink.EpochEnds.Select(r => r.Completed));
        Assert.All(sink.Reports, r => Assert.Equal(4, r.Epochs));
        Assert.Equal(Enumerable.Range(1, 12).Select(i => i.ToString(CultureInfo.InvariantCulture)), ReadCsv(dir.File("steps.csv")).Skip(1).Select(r => r[0]));

        // Stage 2 trained at rate 0: the final weights are stage 1's, bit for bit, and stage 1 changed the head only.
        var original = Weights(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        var stage1 = Weights(Path.Combine(outDir, FineTuner.Stage1Folder, "model.onnx"));
        var final = Weights(Path.Combine(outDir, "model.onnx"));
        Assert.Equal(stage1.Keys.Order(), final.Keys.Order());
        Assert.All(stage1, p => Assert.Equal(p.Value, final[p.Key]));
        Assert.All(original.Where(p => !p.Key.StartsWith("fc", StringComparison.Ordinal) && stage1.ContainsKey(p.Key)), p => Assert.Equal(p.Value, stage1[p.Key]));
        var freshHead = OnnxCnn.Graphs.Edits.HeadEdits.Replace(TinyResNet, new OnnxCnn.Graphs.Edits.HeadSpec { Classes = 2, Seed = 3 }).Graph.Initializer.Single(t => t.Name == "head.0.weight");
        Assert.False(stage1["head.0.weight"].SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(TensorData.FromProto(freshHead).Bytes).ToArray()));

        // history.csv numbers epochs across stages; the stage-2 rate is the one given (0).
        var rows = ReadCsv(Path.Combine(outDir, "history.csv"));
        Assert.Equal(["1", "2", "3", "4"], rows.Skip(1).Select(r => r[0]));
        Assert.Equal(["0.05", "0.05", "0", "0"], rows.Skip(1).Select(r => r[5]));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        var stages = metrics.RootElement.GetProperty("stages");
        Assert.Equal(2, stages.GetArrayLength());
        Assert.Equal(["head.0.bias", "head.0.weight"], stages[0].GetProperty("trainableParameters").EnumerateArray().Select(e => e.GetString()));
        var stage2Parameters = stages[1].GetProperty("trainableParameters").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("head.0.weight", stage2Parameters);
        Assert.Equal(ParametersOf("/layer2/").Append("head.0.bias").Append("head.0.weight").Order(), stage2Parameters.Order());
        Assert.Equal((3, 4), (stages[1].GetProperty("firstEpoch").GetInt32(), stages[1].GetProperty("lastEpoch").GetInt32()));
    }

    [Fact]
    public async Task TwoStage_Globs_TrainTheSelectionAndTheHead_AtATenthOfTheRate()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 6);
        var outDir = dir.File("run");
        var options = Options() with { SecondStage = new TwoStageOptions { Trainable = ["/layer2/*"], Epochs = 1 } };
        await FineTuner.RunAsync(TinyResNet, data, options, outDir);
        var stage1 = Weights(Path.Combine(outDir, FineTuner.Stage1Folder, "model.onnx"));
        var final = Weights(Path.Combine(outDir, "model.onnx"));
        var changed = stage1.Where(p => !p.Value.SequenceEqual(final[p.Key])).Select(p => p.Key).Order().ToList();
        Assert.Contains("head.0.weight", changed);
        Assert.Equal(ParametersOf("/layer2/").Append("head.0.bias").Append("head.0.weight").Order(), changed);
        Assert.Equal("0.005", ReadCsv(Path.Combine(outDir, "history.csv"))[3][5]);
    }

    [Fact]
    public async Task TwoStage_WithoutSelection_Throws()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 2);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.RunAsync(TinyResNet, data, Options() with { SecondStage = new TwoStageOptions() }, dir.File("run")));
        Assert.StartsWith("the two-stage recipe needs a stage-2 selection", e.Message);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public async Task KFold_ThreeFolds_EachSampleValidatedOnce_SummaryIsMeanAndStd()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 6);
        var outDir = dir.File("cv");
        var sink = new Collect();
        var result = await FineTuner.CrossValidateAsync(TinyResNet, data, Options() with { StepLog = dir.File("steps.csv") }, 3, outDir, new FineTuneExecution { Progress = sink });
        Assert.Equal([1, 2, 3], result.Folds.Select(f => f.Fold));
        // The one progress channel: every fold's steps and the end of each of its epochs.
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], sink.Reports.Select(r => r.Fold));
        Assert.Equal([(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)], sink.EpochEnds.Select(r => (r.Fold, r.Completed!.Epoch)));
        long validated = 0;
        foreach (var fold in result.Folds)
        {
            var foldDir = Path.Combine(outDir, $"fold-{fold.Fold}");
            Assert.True(File.Exists(Path.Combine(foldDir, "model.onnx")));
            // 8 training images per fold: 2 steps per epoch.
            Assert.Equal(5, File.ReadAllLines(dir.File($"steps.fold-{fold.Fold}.csv")).Length);
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(foldDir, "metrics.json")));
            var validation = metrics.RootElement.GetProperty("validation");
            Assert.Equal(fold.ValidationAccuracy, validation.GetProperty("accuracy").GetDouble());
            Assert.Equal(fold.ValidationLoss, validation.GetProperty("loss").GetDouble());
            var support = validation.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt64());
            Assert.Equal(4, support);
            validated += support;
        }

        Assert.Equal(12, validated);
        var accuracies = result.Folds.Select(f => f.ValidationAccuracy).ToArray();
        var mean = accuracies.Average();
        Assert.Equal(mean, result.Accuracy.Mean, 12);
        Assert.Equal(Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 3), result.Accuracy.Std, 12);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        Assert.Equal(3, summary.RootElement.GetProperty("kfold").GetInt32());
        Assert.Equal(result.MacroF1.Mean, summary.RootElement.GetProperty("validation").GetProperty("macroF1").GetProperty("mean").GetDouble(), 12);
        Assert.Equal(result.Loss.Std, summary.RootElement.GetProperty("validation").GetProperty("loss").GetProperty("std").GetDouble(), 12);

        // Resume: finished folds are read back, an unfinished one continues from its checkpoint.
        File.Delete(Path.Combine(outDir, "fold-3", "metrics.json"));
        var resumed = await FineTuner.CrossValidateAsync(TinyResNet, data, Options() with { Resume = true }, 3, outDir);
        Assert.Equal(result.Folds, resumed.Folds);
    }

    [Theory]
    [InlineData(new[] { 0.9, 1.0 }, 0.95, 0.05)]
    [InlineData(new[] { 0.5, 0.5, 0.5 }, 0.5, 0.0)]
    public void MeanStd_Values_PopulationStatistics(double[] values, double mean, double std)
    {
        var s = MeanStd.Of(values);
        Assert.Equal(mean, s.Mean, 12);
        Assert.Equal(std, s.Std, 12);
    }

    [Fact]
    public void MeanStd_ToString_ThreeDecimalsWithPlusMinus() =>
        Assert.Equal("0.912 ± 0.031", new MeanStd(0.9121, 0.0314).ToString());

    [Fact]
    public async Task KFold_KOfOne_Throws()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 2);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.CrossValidateAsync(TinyResNet, data, Options(), 1, dir.File("cv")));
        Assert.Equal("the fold count must be at least 2, got 1.", e.Message);
        Assert.False(Directory.Exists(dir.File("cv")));
    }

    [Fact]
    public async Task KFold_MoreFoldsThanImages_ThrowsBeforeWriting()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 2);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.CrossValidateAsync(TinyResNet, data, Options(), 5, dir.File("cv")));
        Assert.Equal("the fold count 5 needs at least 5 images; the data has 4.", e.Message);
        Assert.False(Directory.Exists(dir.File("cv")));
        // One rule, in the caller's names; a plan for one run has no fold count to check.
        var cli = Assert.Throws<ArgumentException>(() => FineTunePlan.Create(TinyResNet, data, Options(), 5, new FineTuneSettingNames { Folds = "--kfold" }));
        Assert.Equal("--kfold 5 needs at least 5 images; the data has 4.", cli.Message);
        Assert.Null(FineTunePlan.Create(TinyResNet, data, Options()).KFold);
    }

    [Fact]
    public void Validate_HeadAndModeRules_WordedWithTheCallersNames()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 2);
        var keepHead = Options() with { NewHeadClasses = null, Dropout = 0.5f };
        var cache = Options() with { Mode = TrainingMode.FeatureCache, Augment = AugmentSpec.Parse("hflip") };
        Assert.Equal("dropout belongs to a new head (before its classifier, or after each hidden layer); it cannot be used with the model's own head (no new head).",
            Assert.Throws<ArgumentException>(() => FineTunePlan.Create(TinyResNet, data, keepHead)).Message);
        Assert.Equal("feature-cache mode needs the same input every epoch; augmentation changes it (use TrainingMode.EndToEnd).",
            Assert.Throws<ArgumentException>(() => FineTunePlan.Create(TinyResNet, data, cache)).Message);
        var cli = new FineTuneSettingNames { Hidden = "--hidden", KeepHead = "--keep-head", EndToEndMode = "end-to-end" };
        Assert.EndsWith("after each --hidden layer); it cannot be used with --keep-head.",
            Assert.Throws<ArgumentException>(() => FineTunePlan.Create(TinyResNet, data, keepHead, null, cli)).Message);
    }
}

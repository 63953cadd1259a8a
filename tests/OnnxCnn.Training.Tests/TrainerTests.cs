using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>The trainer's parts: validation on the eval graph, the step result's guard, validation run once with the caller's names.</summary>
public class TrainerTests
{
    private static OnnxModel TinyResNet => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    private static FineTuneOptions Options(TrainingMode mode) => new()
    {
        NewHeadClasses = 2, Epochs = 3, BatchSize = 4, LearningRate = 0.05f, Seed = 3, ValidationSplit = 0.25, Mode = mode,
        Preprocess = PreprocessSpec.Parse("resize=32x32,scale=1/255"),
        Spec = new TrainingSpec { Momentum = 0.9f },
    };

    [Theory]
    [InlineData(TrainingMode.FeatureCache)]
    [InlineData(TrainingMode.EndToEnd)]
    public async Task Validation_OnTheEvalGraph_EqualsTheExportedModelOnTheSameImages(TrainingMode mode)
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var options = Options(mode);
        var run = dir.File("run");
        var history = await FineTuner.RunAsync(TinyResNet, data, options, run);

        // The reference: the exported model.onnx run as a plain inference model over the same held-out images.
        var (_, validation) = Splits.Stratified(data.Labels, options.ValidationSplit, options.Seed);
        var pipeline = new BatchPipeline(data, new PipelineOptions { BatchSize = 4, Preprocess = options.Preprocess }, BatchPipeline.DefaultLoader(data, options.Preprocess));
        var (loss, accuracy, metrics) = await FineTuner.EvaluateAsync(OnnxModel.Load(Path.Combine(run, "model.onnx")), pipeline, validation, data.Classes, options.Preprocess);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var block = doc.RootElement.GetProperty("validation");
        Assert.Equal(loss, block.GetProperty("loss").GetDouble(), 5);
        Assert.Equal(accuracy, block.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(metrics!.MacroF1, block.GetProperty("macroF1").GetDouble(), 12);

        // The last epoch's validation was taken on the same parameters the export holds.
        Assert.Equal(loss, history[^1].ValidationLoss, 5);
        Assert.Equal(mode == TrainingMode.FeatureCache ? "feature-cache" : "end-to-end", doc.RootElement.GetProperty("mode").GetString());
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "artifacts"), "*.tmp"));
    }

    [Theory]
    [InlineData(TrainingMode.FeatureCache)]
    [InlineData(TrainingMode.EndToEnd)]
    public async Task Metrics_Throughput_CountsEveryTrainingImageOnceAnEpochAndTimesThePhasesApart(TrainingMode mode)
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var options = Options(mode);
        var run = dir.File("run");
        await FineTuner.RunAsync(TinyResNet, data, options, run);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var t = doc.RootElement.GetProperty("throughput");
        var (train, _) = Splits.Stratified(data.Labels, options.ValidationSplit, options.Seed);
        Assert.Equal(train.Length * options.Epochs, t.GetProperty("trainImages").GetInt64());
        Assert.Equal((train.Length + options.BatchSize - 1) / options.BatchSize * options.Epochs, t.GetProperty("steps").GetInt32());
        var seconds = t.GetProperty("trainSeconds").GetDouble();
        Assert.True(seconds > 0);
        Assert.Equal(t.GetProperty("trainImages").GetInt64() / seconds, t.GetProperty("imagesPerSecond").GetDouble(), 0.01 * t.GetProperty("imagesPerSecond").GetDouble());
        Assert.InRange(t.GetProperty("inputWaitSeconds").GetDouble(), 0, seconds);
        var first = t.GetProperty("firstStepSeconds").GetDouble();
        Assert.InRange(first, 1e-9, seconds);
        Assert.Equal((t.GetProperty("trainImages").GetInt64() - options.BatchSize) / (seconds - first), t.GetProperty("steadyImagesPerSecond").GetDouble(), 0.01 * t.GetProperty("steadyImagesPerSecond").GetDouble());
        foreach (var phase in new[] { "setupSeconds", "validationSeconds", "bookkeepingSeconds", "finishSeconds" })
        {
            Assert.True(t.GetProperty(phase).GetDouble() > 0, phase);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EndToEnd_EpochsReadAheadInOnePipeline_SameStepsAsAResumeThatOpensItAfresh(bool everything)
    {
        // Head only: a frozen prefix, and the next epoch's first batch arrives with its prefix started during the
        // epoch's last step; everything: no prefix, the batch alone is carried. A resumed run opens the pipeline at
        // its epoch, so equal step logs and histories say the read-ahead changes nothing.
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var options = Options(TrainingMode.EndToEnd) with
        {
            Augment = AugmentSpec.Parse("rotation=20,hflip,shift=0.1"),
            Spec = new TrainingSpec { Momentum = 0.9f, Trainable = everything ? ["*"] : [] },
        };
        await FineTuner.RunAsync(TinyResNet, data, options with { StepLog = dir.File("full.csv") }, dir.File("full"));
        await FineTuner.RunAsync(TinyResNet, data, options with { Epochs = 1, StepLog = dir.File("part.csv") }, dir.File("part"));
        await FineTuner.RunAsync(TinyResNet, data, options with { Resume = true, StepLog = dir.File("part.csv") }, dir.File("part"));

        string[] History(string run) => File.ReadAllLines(Path.Combine(run, "history.csv")).Select(l => l[..l.LastIndexOf(',')]).ToArray();
        Assert.Equal(File.ReadAllLines(dir.File("full.csv")), File.ReadAllLines(dir.File("part.csv")));
        Assert.Equal(History(dir.File("full")), History(dir.File("part")));
        Assert.Equal(1 + options.Epochs, History(dir.File("full")).Length);
    }

    [Fact]
    public async Task Validation_FeatureCacheWithoutMemory_SpillsValidationFeaturesAndDeletesThem()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var run = dir.File("run");
        var cached = await FineTuner.RunAsync(TinyResNet, data, Options(TrainingMode.FeatureCache) with { CacheMemoryBytes = 0 }, run);
        var memory = await FineTuner.RunAsync(TinyResNet, data, Options(TrainingMode.FeatureCache), dir.File("memory"));

        // On disk or in memory, the cached validation features give the same numbers every epoch.
        Assert.Equal(memory.Select(h => h.ValidationLoss), cached.Select(h => h.ValidationLoss));
        Assert.False(File.Exists(Path.Combine(run, "artifacts", "feature_cache_validation.tmp")));
    }

    [Fact]
    public void TryStep_NonFiniteLoss_DiscardedWithEveryParameterAndTheStepCountKept()
    {
        using var session = TrainingSession.Create(TinyResNet, new TrainingSpec { Trainable = ["*"], Momentum = 0.9f });
        using var x = Tensor<float>.Filled(0.5f, 2, 3, 32, 32);
        using var y = Tensor<long>.FromSpan([0L, 1L], 2);
        var applied = session.TryStep(x, y, 0.01f);
        Assert.Equal(StepGuard.Applied, applied.Guard);
        Assert.Equal(1, applied.Step);
        var before = session.Graph.Parameters.ToDictionary(p => p, p => session.Parameter(p).ToArray());
        using var poisoned = Tensor<float>.Filled(float.NaN, 2, 3, 32, 32);
        var discarded = session.TryStep(poisoned, y, 0.01f);
        Assert.Equal(StepGuard.Discarded, discarded.Guard);
        Assert.True(float.IsNaN(discarded.Loss));
        Assert.Equal(2, discarded.Step);
        Assert.Equal(1, session.StepCount);
        foreach (var (name, value) in before)
        {
            Assert.Equal(value, session.Parameter(name).ToArray());
        }

        Assert.Equal([2L, 10L], applied.LogitsShape);
        Assert.Equal(20, applied.Logits.Length);
    }

    [Theory]
    [InlineData(false, "dropout must be in [0, 1), got 1.5.")]
    [InlineData(true, "--dropout must be in [0, 1), got 1.5.")]
    public void Validate_OneRule_OneMessage_InTheCallersNames(bool commandLine, string message)
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var names = commandLine ? new FineTuneSettingNames { Dropout = "--dropout" } : null;
        var e = Assert.Throws<ArgumentException>(() => FineTunePlan.Create(TinyResNet, data, Options(TrainingMode.Auto) with { Dropout = 1.5f }, names: names));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public async Task Plan_KFold_RunsOnlyAsCrossValidation()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var plan = FineTunePlan.Create(TinyResNet, data, Options(TrainingMode.Auto), kFold: 2);
        await Assert.ThrowsAsync<InvalidOperationException>(() => plan.RunAsync(dir.File("run")));
        Assert.False(Directory.Exists(dir.File("run")));
    }
}

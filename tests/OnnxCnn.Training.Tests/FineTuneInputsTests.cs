using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>Feature-cache spilling, a separate validation set, the input size, head dropout and the training sessions' options.</summary>
public class FineTuneInputsTests
{
    private static OnnxModel TinyResNet => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    private static FineTuneOptions Options(int epochs = 3) => new()
    {
        Mode = TrainingMode.FeatureCache, NewHeadClasses = 2, Epochs = epochs, BatchSize = 4, LearningRate = 0.05f, Seed = 3, ValidationSplit = 0.25,
        Preprocess = PreprocessSpec.Parse("resize=32x32,scale=1/255"),
        Spec = new TrainingSpec { Momentum = 0.9f },
    };

    private static string SpillFile(string run) => Path.Combine(run, "artifacts", "feature_cache.tmp");

    private static JsonElement FeatureCacheStats(string run)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.Equal("feature-cache", doc.RootElement.GetProperty("mode").GetString());
        return doc.RootElement.GetProperty("featureCache").Clone();
    }

    /// <summary>Records whether the spill file exists at each step of epochs after the first (when the cache is read back).</summary>
    private sealed class SpillProbe(string run, int throwInEpoch = 0) : IProgress<FineTuneProgress>
    {
        public List<bool> LaterEpochs { get; } = [];

        public void Report(FineTuneProgress value)
        {
            if (value.Epoch > 1)
            {
                LaterEpochs.Add(File.Exists(SpillFile(run)));
            }

            if (value.Epoch == throwInEpoch)
            {
                throw new InvalidOperationException("stopped by the test");
            }
        }
    }

    [Fact]
    public async Task FeatureCache_BudgetZeroOrPartial_SameHistoryAsInMemory_SpillFileUsedThenDeleted()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 8);
        var memory = await FineTuner.RunAsync(TinyResNet, data, Options(), dir.File("memory"));
        var inMemory = FeatureCacheStats(dir.File("memory"));
        Assert.Equal(0, inMemory.GetProperty("spilled").GetInt32());
        var samples = inMemory.GetProperty("samples").GetInt32();
        Assert.Equal(12, samples); // 16 images, a quarter held out
        var bytesPerSample = inMemory.GetProperty("bytesPerSample").GetInt64();

        foreach (var (name, budget, spilled) in new[] { ("disk", 0L, samples), ("partial", (3 * bytesPerSample) + 1, samples - 3) })
        {
            var run = dir.File(name);
            var probe = new SpillProbe(run);
            var history = await FineTuner.RunAsync(TinyResNet, data, Options() with { CacheMemoryBytes = budget }, run, new FineTuneExecution { Progress = probe });
            Assert.Equal(memory.Select(h => (h.TrainLoss, h.TrainAccuracy, h.ValidationLoss, h.ValidationAccuracy)),
                history.Select(h => (h.TrainLoss, h.TrainAccuracy, h.ValidationLoss, h.ValidationAccuracy)));
            Assert.NotEmpty(probe.LaterEpochs);
            Assert.All(probe.LaterEpochs, b => Assert.True(b));
            Assert.False(File.Exists(SpillFile(run)));
            var stats = FeatureCacheStats(run);
            Assert.Equal(spilled, stats.GetProperty("spilled").GetInt32());
            Assert.Equal(samples - spilled, stats.GetProperty("inMemory").GetInt32());
        }
    }

    [Fact]
    public async Task FeatureCache_RunFailsAfterSpilling_SpillFileDeleted()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 4);
        var run = dir.File("run");
        var probe = new SpillProbe(run, throwInEpoch: 2);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => FineTuner.RunAsync(TinyResNet, data, Options() with { CacheMemoryBytes = 0 }, run, new FineTuneExecution { Progress = probe }));
        Assert.Equal("stopped by the test", e.Message);
        Assert.Equal([true], probe.LaterEpochs);
        Assert.False(File.Exists(SpillFile(run)));
    }

    [Fact]
    public async Task FeatureCache_NegativeBudget_Throws()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.RunAsync(TinyResNet, data, Options() with { CacheMemoryBytes = -1 }, dir.File("run")));
        Assert.Equal("the feature cache's memory budget must be 0 or more bytes, got -1.", e.Message);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    /// <summary>A separate validation set: every training image trains, every validation image is evaluated.</summary>
    [Fact]
    public async Task ValidationData_SeparateFolder_TrainsOnAllAndValidatesOnIt()
    {
        using var dir = new TempDir();
        var train = FineTuneWorkflowTests.MakeDataset(dir, 6);
        using var other = new TempDir();
        var validation = FineTuneWorkflowTests.MakeDataset(other, 3);
        var steps = new List<FineTuneProgress>();
        var history = await FineTuner.RunAsync(TinyResNet, new FineTuneData(train, validation), Options(1), dir.File("run"), new FineTuneExecution { Progress = new Progress(steps) });
        Assert.Equal(3, steps[^1].Batches); // 12 training images in batches of 4: none held out
        Assert.Equal(12, steps[^1].Images);
        Assert.False(double.IsNaN(history[0].ValidationLoss));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.File("run"), "metrics.json")));
        var confusion = doc.RootElement.GetProperty("validation").GetProperty("confusion");
        Assert.Equal(6, confusion.EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt32()));
    }

    [Fact]
    public async Task ValidationData_DifferentClasses_ThrowsBeforeWriting()
    {
        using var dir = new TempDir();
        var train = FineTuneWorkflowTests.MakeDataset(dir, 2);
        using var other = new TempDir();
        Directory.CreateDirectory(Path.Combine(other.Path, "v", "blue"));
        Directory.CreateDirectory(Path.Combine(other.Path, "v", "green"));
        foreach (var c in new[] { "blue", "green" })
        {
            File.Copy(train.Items[0].Source, Path.Combine(other.Path, "v", c, "a.png"));
        }

        var validation = ImageDataset.FromFolder(Path.Combine(other.Path, "v"));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.RunAsync(TinyResNet, new FineTuneData(train, validation), Options(), dir.File("run")));
        Assert.Equal("the validation data's classes (blue, green) differ from the training data's (blue, red); both need the same class folders.", e.Message);
        Assert.False(Directory.Exists(dir.File("run")));
        var k = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.CrossValidateAsync(TinyResNet, new FineTuneData(train, train), Options(), 2, dir.File("kfold")));
        Assert.StartsWith("a separate validation set cannot be combined with K-fold", k.Message);
        Assert.False(Directory.Exists(dir.File("kfold")));
    }

    /// <summary>A spec without a fixed size resizes to the input size; the model's input and the exported model follow it.</summary>
    [Fact]
    public async Task InputSize_SpecWithoutSize_ResizesAndSetsTheModelInput()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 4);
        var options = Options(1) with { Preprocess = PreprocessSpec.Parse("scale=1/255"), InputSize = (24, 20) };
        await FineTuner.RunAsync(TinyResNet, data, options, dir.File("run"));
        using var session = InferenceSession.Open(Path.Combine(dir.File("run"), "model.onnx"));
        Assert.Equal([-1L, 3, 24, 20], session.Inputs[0].Dimensions);
        Assert.StartsWith("resize=24x20,scale=", session.Metadata.Custom[FineTuner.PreprocessKey]);
    }

    /// <summary>ImageNet's resize 256 → crop 224 at 64×64 keeps its proportion: resize 74 (⌈256·64/224⌉) → crop 64.</summary>
    [Fact]
    public async Task InputSize_FixedSizeSpec_ScalesResizeAndCrop()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        await FineTuner.RunAsync(TinyResNet, data, Options(1) with { Preprocess = PreprocessSpec.ImageNet, InputSize = (64, 64), ValidationSplit = 0 }, dir.File("run"));
        var model = OnnxModel.Load(Path.Combine(dir.File("run"), "model.onnx"));
        Assert.StartsWith("resize=74,crop=64x64,", model.Proto.MetadataProps.Single(p => p.Key == FineTuner.PreprocessKey).Value);
    }

    [Fact]
    public async Task InputSize_ModelAndPreprocessDisagree_ThrowsNamingBoth()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.RunAsync(TinyResNet, data, Options() with { Preprocess = PreprocessSpec.ImageNet }, dir.File("run")));
        Assert.Equal("the model's input 'input' is 32x32 but the preprocessing gives 224x224; set the input size (--input-size) or a preprocessing spec of that size.", e.Message);
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.RunAsync(TinyResNet, data, Options() with { InputSize = (0, 8) }, dir.File("run")));
        Assert.Equal("the input size must be at least 1x1, got 0x8.", bad.Message);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    /// <summary>Dropout in the new head is in the exported model, and its masks in the step graph are seeded by the spec's dropout seed.</summary>
    [Fact]
    public async Task Dropout_NewHeadWithHidden_ExportedAndSeeded()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var options = Options(1) with { Mode = TrainingMode.EndToEnd, Hidden = [8], Dropout = 0.4f, Spec = new TrainingSpec { Momentum = 0.9f, DropoutSeed = 11 } };
        await FineTuner.RunAsync(TinyResNet, data, options, dir.File("run"));
        var exported = OnnxModel.Load(Path.Combine(dir.File("run"), "model.onnx"));
        Assert.Single(exported.Graph.Node, n => n.OpType == "Dropout" && n.Name == "/head/0/Dropout");
        var step = OnnxModel.Load(Path.Combine(dir.File("run"), "artifacts", "training_step.onnx"));
        // Head only trains the whole new head, hidden layer included; the dropout between its layers is in the step graph.
        Assert.Contains("head.0.weight", step.Graph.Input.Select(i => i.Name));
        var seed = step.Graph.Initializer.Single(t => t.Name.StartsWith("do_seed", StringComparison.Ordinal));
        Assert.Equal(((11 * 7_919L) + 12_345L) % 2147483647, BitConverter.ToInt64(seed.RawData.Span));
    }

    /// <summary>
    /// Without hidden layers the dropout sits on the features before the classifier (Keras' GAP → Dropout → Dense);
    /// head-only training moves the step graph's start before it, so it is active, and the feature cache holds the
    /// features before dropout (fresh masks every epoch).
    /// </summary>
    [Fact]
    public async Task Dropout_NewHeadWithoutHidden_BeforeClassifier_ActiveInStepGraph()
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var options = Options(1) with { Mode = TrainingMode.FeatureCache, Dropout = 0.4f, Spec = new TrainingSpec { Momentum = 0.9f, DropoutSeed = 3 } };
        await FineTuner.RunAsync(TinyResNet, data, options, dir.File("run"));
        var exported = OnnxModel.Load(Path.Combine(dir.File("run"), "model.onnx"));
        var dropout = Assert.Single(exported.Graph.Node, n => n.OpType == "Dropout");
        Assert.Contains(exported.Graph.Node, n => n.OpType == "Gemm" && n.Input[0] == dropout.Output[0]);
        var step = OnnxModel.Load(Path.Combine(dir.File("run"), "artifacts", "training_step.onnx"));
        var input = step.Graph.Input.Select(i => i.Name).First(n => !n.StartsWith("head.", StringComparison.Ordinal));
        Assert.Equal(dropout.Input[0], input);
        Assert.Contains(step.Graph.Initializer, t => t.Name.StartsWith("do_seed", StringComparison.Ordinal));

        // With dropout off (inference semantics) the step graph may start after it, as before.
        using var session = TrainingSession.Create(exported, new TrainingSpec { Trainable = ["/head/*"] });
        Assert.Equal(dropout.Input[0], session.Graph.Input);
        using var session2 = TrainingSession.Create(exported, new TrainingSpec { Trainable = ["/head/*"], Dropout = false });
        Assert.NotEqual(dropout.Input[0], session2.Graph.Input);
    }

    [Theory]
    [InlineData(1f, new[] { 8 }, "dropout must be in [0, 1), got 1.")]
    public async Task Dropout_Invalid_Throws(float ratio, int[] hidden, string message)
    {
        using var dir = new TempDir();
        var data = FineTuneWorkflowTests.MakeDataset(dir, 2);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => FineTuner.RunAsync(TinyResNet, data, Options() with { Hidden = hidden, Dropout = ratio }, dir.File("run")));
        Assert.Equal(message, e.Message);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void TrainingSessionOptions_Cuda_DisablesCpuFallback_OnACopy()
    {
        var cuda = new SessionOptions { Device = ExecutionDevice.Parse("cuda:1"), IntraOpThreads = 3 };
        var training = FineTuner.TrainingSessionOptions(cuda)!;
        Assert.Equal("1", training.ConfigEntries[SessionOptions.DisableCpuFallbackKey]);
        Assert.Equal(cuda.Device, training.Device);
        Assert.Equal(3, training.IntraOpThreads);
        Assert.False(cuda.ConfigEntries.ContainsKey(SessionOptions.DisableCpuFallbackKey));
    }

    [Fact]
    public void TrainingSessionOptions_Cpu_LeavesFallbackAlone()
    {
        var cpu = new SessionOptions { Device = ExecutionDevice.Cpu };
        Assert.False(FineTuner.TrainingSessionOptions(cpu)!.ConfigEntries.ContainsKey(SessionOptions.DisableCpuFallbackKey));
        Assert.Null(FineTuner.TrainingSessionOptions(null));
    }

    private sealed class Progress(List<FineTuneProgress> sink) : IProgress<FineTuneProgress>
    {
        public void Report(FineTuneProgress value) => sink.Add(value);
    }
}

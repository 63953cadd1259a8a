using System.Text.Json;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class FineTuneCliTests
{
    /// <summary>Two classes of noisy 40×40 PNGs: reddish and bluish.</summary>
    internal static string MakeDataset(TempDir dir, int perClass = 12)
    {
        var root = Path.Combine(dir.Path, "data");
        var random = new Random(3);
        foreach (var (name, channel) in new[] { ("blue", 2), ("red", 0) })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (var i = 0; i < perClass; i++)
            {
                using var image = RgbImage.Create(40, 40);
                var px = image.Pixels;
                for (var p = 0; p < px.Length; p++)
                {
                    px[p] = (byte)random.Next(0, 120);
                    if (p % 3 == channel)
                    {
                        px[p] = (byte)random.Next(150, 256);
                    }
                }

                PngEncoder.Save(image, Path.Combine(root, name, $"{i:D2}.png"));
            }
        }

        return root;
    }

    [Fact]
    public void FineTune_TinyResNet_LearnsRedVsBlue_AndWritesEverything()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir);
        var outDir = Path.Combine(dir.Path, "run");
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "6", "--batch", "8", "--optimizer", "adam", "--lr", "0.01", "--trainable", "*", "--val-split", "0.25", "--seed", "1");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("epoch 6/6", stdout);
        // 24 images, a quarter held out: 18 trained on in each of 6 epochs, and the summary says how fast.
        Assert.Matches(@"\ntraining: 108 images in [0-9.]+ s, [0-9.]+ images/s \(of it [0-9.]+ s waiting for batches; first step [0-9.]+ s, [0-9.]+ images/s after it\); setup [0-9.]+ s, validation [0-9.]+ s, checkpoints and charts [0-9.]+ s, final evaluation and export [0-9.]+ s", stdout);
        foreach (var f in new[] { "model.onnx", "labels.txt", "history.csv", "metrics.json", "artifacts/training_step.onnx", "artifacts/checkpoint.onnx" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        }

        Assert.Equal("blue\nred\n", File.ReadAllText(Path.Combine(outDir, "labels.txt")));
        var history = File.ReadAllLines(Path.Combine(outDir, "history.csv"));
        Assert.Equal("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds", history[0]);
        Assert.Equal(7, history.Length);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        Assert.Equal(1.0, metrics.RootElement.GetProperty("validation").GetProperty("accuracy").GetDouble());
        using var session = InferenceSession.Open(Path.Combine(outDir, "model.onnx"));
        Assert.Equal("blue\nred", session.Metadata.Custom["onnxcnn.labels"]);
        Assert.Equal([-1L, 2], session.Outputs[0].Dimensions);
    }

    /// <summary>
    /// The issue's "another framework" case end to end through the CLI: a Paddle2ONNX-style graph (opset 9, Constant-node
    /// weights, depthwise convs, hard-swish, squeeze-excite HardSigmoid, BN, Softmax output) fine-tuned with every
    /// parameter trainable on a folder of images; the export still ends in Softmax and predict reads it without flags.
    /// </summary>
    [Fact]
    public void FineTune_PaddleStyleAllParameters_LearnsAndExportsProbabilities()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir);
        var outDir = Path.Combine(dir.Path, "run");
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("graphs", "paddle_style", "model.onnx"), "--data", data, "--out", outDir,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "8", "--batch", "8", "--optimizer", "adam", "--lr", "0.01", "--trainable", "*", "--val-split", "0.25", "--seed", "2");
        Assert.True(code == 0, stderr + stdout);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        Assert.True(metrics.RootElement.GetProperty("trainableParameters").GetArrayLength() > 10, "the base's Constant-node weights did not become trainable");
        Assert.InRange(metrics.RootElement.GetProperty("validation").GetProperty("accuracy").GetDouble(), 0.8, 1.0);
        var model = OnnxCnn.Graphs.OnnxModel.Load(Path.Combine(outDir, "model.onnx"));
        Assert.Equal("Softmax", model.Graph.Node.Single(n => n.Output.Contains(model.Graph.Output[0].Name)).OpType);
        var (predictCode, json, predictError) = Cli.Run("predict", Path.Combine(outDir, "model.onnx"), Path.Combine(data, "red"), "--json");
        Assert.True(predictCode == 0, predictError);
        using var predictions = JsonDocument.Parse(json);
        var top = predictions.RootElement.EnumerateArray().Select(r => r.GetProperty("top")[0].GetProperty("label").GetString()).ToList();
        Assert.True(top.Count(l => l == "red") >= 10, string.Join(",", top));
    }

    [Fact]
    public void FineTune_UnknownOptimizer_IsUsageError()
    {
        using var dir = new TempDir();
        var data = MakeDataset(dir, 2);
        var (code, _, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("o"), "--optimizer", "lbfgs");
        Assert.Equal(2, code);
        Assert.Equal("error: --optimizer 'lbfgs' is not one of sgd, rmsprop, adam, adamw.", stderr.Trim());
    }
}

public class FeatureCacheTests
{
    /// <summary>Head-only without augmentation: the feature cache gives the same losses as running the prefix every epoch.</summary>
    [Fact]
    public async Task FeatureCache_SameLossesAsEndToEnd()
    {
        using var dir = new TempDir();
        var data = Preprocess.ImageDataset.FromFolder(FineTuneCliTests.MakeDataset(dir, 6));
        var model = Graphs.OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        Training.FineTuneOptions Options(Training.TrainingMode mode) => new()
        {
            Mode = mode, NewHeadClasses = 2, Epochs = 3, BatchSize = 4, NoShuffle = true, ValidationSplit = 0,
            Preprocess = Preprocess.PreprocessSpec.Parse("resize=32x32,scale=1/255"),
            Spec = new Training.TrainingSpec { Momentum = 0.9f },
        };
        var cached = await Training.FineTuner.RunAsync(model, data, Options(Training.TrainingMode.FeatureCache), dir.File("a"));
        var full = await Training.FineTuner.RunAsync(model, data, Options(Training.TrainingMode.EndToEnd), dir.File("b"));
        Assert.Equal(full.Select(e => e.TrainLoss), cached.Select(e => e.TrainLoss));
        Assert.Contains("\"mode\": \"feature-cache\"", File.ReadAllText(Path.Combine(dir.File("a"), "metrics.json")));
        Assert.Throws<ArgumentException>(() => Training.FineTuner.RunAsync(model, data, Options(Training.TrainingMode.FeatureCache) is var o
            ? new Training.FineTuneOptions { Mode = o.Mode, NewHeadClasses = 2, Augment = Preprocess.AugmentSpec.Parse("hflip"), Preprocess = o.Preprocess } : o, dir.File("c")).GetAwaiter().GetResult());
    }
}

public class EarlyStoppingTests
{
    [Fact]
    public void EarlyStopping_NoImprovement_StopsAfterPatience_AndKeepsBestCheckpoint()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 4);
        var outDir = Path.Combine(dir.Path, "run");
        // lr 0: the validation loss never improves after epoch 1.
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "10", "--batch", "4", "--lr", "0", "--early-stopping", "2", "--val-split", "0.5");
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(outDir, "history.csv")).Length); // header + 3 epochs
        Assert.True(File.Exists(Path.Combine(outDir, "artifacts", "best_checkpoint.onnx")));
        Assert.True(File.Exists(Path.Combine(outDir, "artifacts", "checkpoint.onnx")));
    }
}

public class ResumeTests
{
    [Fact]
    public void Resume_AfterTwoEpochs_ReproducesTheUninterruptedRun()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 5);
        string[] Args(string outDir, int epochs) => ["finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "4",
            "--optimizer", "adam", "--lr", "0.01", "--trainable", "*", "--augment", "hflip", "--schedule", "constant", "--seed", "2"];
        Assert.Equal(0, Cli.Run(Args(dir.File("full"), 4)).Code);
        Assert.Equal(0, Cli.Run(Args(dir.File("part"), 2)).Code);
        // A 2-epoch run stands in for a 4-epoch run killed after epoch 2 (a constant rate makes their first epochs equal).
        var (code, _, stderr) = Cli.Run([.. Args(dir.File("part"), 4), "--resume"]);
        Assert.True(code == 0, stderr);
        string[] Losses(string d) => File.ReadAllLines(Path.Combine(d, "history.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[1..5])).ToArray();
        var full = Losses(dir.File("full"));
        var resumed = Losses(dir.File("part"));
        Assert.Equal(4, resumed.Length);
        Assert.Equal(full[2..], resumed[2..]);
    }

    [Fact]
    public void Resume_WithoutCheckpoint_NamesTheFile()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var (code, _, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("none"), "--resume", "--preprocess", "resize=32x32");
        Assert.Equal(2, code);
        Assert.StartsWith($"error: cannot resume: '{Path.Combine(dir.File("none"), "artifacts", "checkpoint.onnx")}' not found", stderr);
    }
}

public class ImbalanceOptionsTests
{
    [Fact]
    public void FineTune_ClassWeightsAndBalancedSampler_Run()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        // Make the classes imbalanced: drop most of one class.
        foreach (var f in Directory.GetFiles(Path.Combine(data, "red")).Order().Skip(2))
        {
            File.Delete(f);
        }

        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("run"),
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "2", "--batch", "4", "--class-weights", "auto", "--balanced", "--val-split", "0");
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir.File("run"), "history.csv")).Length);
        var bad = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("x"), "--class-weights", "some");
        Assert.Equal(2, bad.Code);
        Assert.Equal("error: --class-weights 'some' is not auto or none.", bad.Err.Trim());
    }
}

public class EvalCliTests
{
    [Fact]
    public void Eval_FineTunedModel_UsesItsMetadata_AndPrintsTheSchema()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        Assert.Equal(0, Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("run"),
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "4", "--batch", "4", "--optimizer", "adam", "--trainable", "*", "--val-split", "0").Code);
        var (code, stdout, stderr) = Cli.Run("eval", Path.Combine(dir.File("run"), "model.onnx"), "--data", data, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.InRange(root.GetProperty("accuracy").GetDouble(), 0.9, 1.0);
        Assert.Equal(2, root.GetProperty("perClass").GetArrayLength());
        Assert.Equal("blue", root.GetProperty("perClass")[0].GetProperty("label").GetString());
        Assert.Equal(12, root.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt64()));
        Assert.True(root.TryGetProperty("macroF1", out _));
    }
}

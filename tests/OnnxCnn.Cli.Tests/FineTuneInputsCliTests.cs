using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>finetune's --val, --head-only, --mode, --input-size, --dropout, --batchnorm, --cache-memory and --seed (dropout).</summary>
public class FineTuneInputsCliTests
{
    private static readonly string TinyResNet = RepoPaths.Fixture("tiny_resnet", "model.onnx");

    /// <summary>finetune on tiny_resnet with defaults for the options <paramref name="extra"/> does not give.</summary>
    private static (int Code, string Out, string Err) FineTune(string data, string outDir, params string[] extra)
    {
        List<string> args = ["finetune", "--model", TinyResNet, "--data", data, "--out", outDir, "--batch", "4", .. extra];
        foreach (var (option, value) in new[] { ("--preprocess", "resize=32x32,scale=1/255"), ("--epochs", "1") })
        {
            if (!extra.Contains(option))
            {
                args.AddRange([option, value]);
            }
        }

        return Cli.Run([.. args]);
    }

    private static JsonElement Metrics(string outDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        return doc.RootElement.Clone();
    }

    /// <summary>A second dataset of the same two classes (6 images), or with a class renamed.</summary>
    private static string ValidationFolder(TempDir dir, string name, bool otherClasses = false)
    {
        using var source = new TempDir();
        var made = FineTuneCliTests.MakeDataset(source, 3);
        var root = Path.Combine(dir.Path, name);
        foreach (var cls in Directory.GetDirectories(made))
        {
            var target = Path.Combine(root, otherClasses && Path.GetFileName(cls) == "red" ? "green" : Path.GetFileName(cls));
            Directory.CreateDirectory(target);
            foreach (var f in Directory.GetFiles(cls))
            {
                File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
            }
        }

        return root;
    }

    [Fact]
    public void FineTune_Val_TrainsOnAllOfData_ValidatesOnTheFolder()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 4);
        var val = ValidationFolder(dir, "val");
        var outDir = dir.File("run");
        var (code, stdout, stderr) = FineTune(data, outDir, "--val", val, "--head-only");
        Assert.True(code == 0, stderr + stdout);
        var validation = Metrics(outDir).GetProperty("validation");
        Assert.Equal(6, validation.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt32()));
        Assert.Equal([3, 3], validation.GetProperty("perClass").EnumerateArray().Select(c => c.GetProperty("support").GetInt32()));
        Assert.Equal(["head.0.bias", "head.0.weight"], Metrics(outDir).GetProperty("trainableParameters").EnumerateArray().Select(p => p.GetString()).Order());
    }

    [Fact]
    public void FineTune_ModeAndCacheMemory_RecordedInMetrics_SpillFileGone()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 4);
        var (code, stdout, stderr) = FineTune(data, dir.File("disk"), "--mode", "feature-cache", "--cache-memory", "0", "--val-split", "0", "--epochs", "2");
        Assert.True(code == 0, stderr + stdout);
        var metrics = Metrics(dir.File("disk"));
        Assert.Equal("feature-cache", metrics.GetProperty("mode").GetString());
        Assert.Equal(8, metrics.GetProperty("featureCache").GetProperty("spilled").GetInt32());
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.File("disk"), "artifacts"), "*.tmp"));

        (code, stdout, stderr) = FineTune(data, dir.File("e2e"), "--mode", "end-to-end", "--val-split", "0", "--epochs", "2");
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal("end-to-end", Metrics(dir.File("e2e")).GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, Metrics(dir.File("e2e")).GetProperty("featureCache").ValueKind);
        string[] Losses(string d) => File.ReadAllLines(Path.Combine(d, "history.csv")).Skip(1).Select(l => l.Split(',')[1]).ToArray();
        var cached = Losses(dir.File("disk")).Select(double.Parse).ToArray();
        var full = Losses(dir.File("e2e")).Select(double.Parse).ToArray();
        Assert.Equal(full.Length, cached.Length);
        for (var i = 0; i < full.Length; i++)
        {
            Assert.Equal(full[i], cached[i], 1e-6);
        }
    }

    [Fact]
    public void FineTune_InputSize_ResizesAndSetsTheExportedInput()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 3);
        var outDir = dir.File("run");
        var (code, stdout, stderr) = FineTune(data, outDir, "--preprocess", "scale=1/255", "--input-size", "24x24", "--val-split", "0");
        Assert.True(code == 0, stderr + stdout);
        using var session = InferenceSession.Open(Path.Combine(outDir, "model.onnx"));
        Assert.Equal([-1L, 3, 24, 24], session.Inputs[0].Dimensions);
        Assert.StartsWith("resize=24x24,", session.Metadata.Custom["onnxcnn.preprocess"]);
    }

    [Fact]
    public void FineTune_DropoutAndSeed_InTheHeadAndTheStepGraph()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 3);
        var outDir = dir.File("run");
        var (code, stdout, stderr) = FineTune(data, outDir, "--hidden", "8", "--dropout", "0.3", "--seed", "4", "--val-split", "0");
        Assert.True(code == 0, stderr + stdout);
        var dropout = Assert.Single(OnnxModel.Load(Path.Combine(outDir, "model.onnx")).Graph.Node, n => n.OpType == "Dropout");
        Assert.Equal("/head/0/Dropout", dropout.Name);
        var step = OnnxModel.Load(Path.Combine(outDir, "artifacts", "training_step.onnx"));
        var seed = step.Graph.Initializer.Single(t => t.Name.StartsWith("do_seed", StringComparison.Ordinal));
        Assert.Equal(((4 * 7_919L) + 12_345L) % 2147483647, BitConverter.ToInt64(seed.RawData.Span));
    }

    /// <summary>--batchnorm train makes the running statistics carried state (step-graph inputs); frozen keeps them constants.</summary>
    [Fact]
    public void FineTune_BatchNormTrain_RunningStatisticsBecomeState()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var paddle = RepoPaths.Fixture("graphs", "paddle_style", "model.onnx");
        string[] Run(string name, string mode)
        {
            var outDir = dir.File(name);
            var (code, stdout, stderr) = Cli.Run("finetune", "--model", paddle, "--data", data, "--out", outDir, "--preprocess", "resize=32x32,scale=1/255",
                "--epochs", "1", "--batch", "4", "--trainable", "*", "--val-split", "0", "--batchnorm", mode);
            Assert.True(code == 0, stderr + stdout);
            return [.. OnnxModel.Load(Path.Combine(outDir, "artifacts", "training_step.onnx")).Graph.Input.Select(i => i.Name)];
        }

        var model = OnnxModel.Load(paddle);
        var means = model.Graph.Node.Where(n => n.OpType == "BatchNormalization").Select(n => n.Input[3]).ToList();
        Assert.NotEmpty(means);
        Assert.Superset(means.ToHashSet(), Run("train", "train").ToHashSet());
        Assert.Empty(means.Intersect(Run("frozen", "frozen")));
    }

    /// <summary>Bad input: exit 2, the message, and no output folder. {data}, {val}, {odd} and {missing} are folders made by the test.</summary>
    [Theory]
    [InlineData("--val {odd}", "the validation data's classes (blue, green) differ from the training data's (blue, red); both need the same class folders.")]
    [InlineData("--val {val} --val-split 0.3", "--val gives the validation set; it cannot be combined with --val-split.")]
    [InlineData("--val {val} --kfold 2", "--val cannot be combined with --kfold: it holds out each fold in turn.")]
    [InlineData("--val {missing}", "--val: dataset folder '{missing}' not found.")]
    [InlineData("--head-only --trainable *", "--head-only cannot be combined with --trainable or --unfreeze-from; give one selection.")]
    [InlineData("--head-only --unfreeze-from x", "--head-only cannot be combined with --trainable or --unfreeze-from; give one selection.")]
    [InlineData("--mode fast", "--mode 'fast' is not one of auto, feature-cache, end-to-end.")]
    [InlineData("--mode feature-cache --augment hflip", "feature-cache mode needs the same input every epoch; augmentation changes it (use end-to-end).")]
    [InlineData("--input-size 32", "--input-size '32' is not HxW (e.g. 224x224).")]
    [InlineData("--input-size 0x32", "--input-size '0x32' is not HxW (e.g. 224x224).")]
    [InlineData("--preprocess imagenet", "the model's input 'input' is 32x32 but the preprocessing gives 224x224; set the input size (--input-size) or a preprocessing spec of that size.")]
    [InlineData("--preprocess scale=1/255", "preprocess spec 'scale=0.003921569,mean=0:0:0,std=1:1:1,order=rgb,layout=nchw' does not give a fixed size; give resize=HxW, fit=HxW or crop=HxW, or an input size (--input-size).")]
    [InlineData("--keep-head --dropout 0.5", "dropout belongs to a new head (before its classifier, or after each --hidden layer); it cannot be used with --keep-head.")]
    [InlineData("--dropout 1.5 --hidden 8", "--dropout must be in [0, 1), got 1.5.")]
    [InlineData("--batchnorm sometimes", "--batchnorm 'sometimes' is not frozen or train.")]
    [InlineData("--cache-memory -1", "--cache-memory must be 0 or more MB, got -1.")]
    public void FineTune_BadInputOption_UsageError_NothingWritten(string args, string message)
    {
        using var dir = new TempDir();
        var folders = new Dictionary<string, string>
        {
            ["{data}"] = FineTuneCliTests.MakeDataset(dir, 2),
            ["{val}"] = ValidationFolder(dir, "val"),
            ["{odd}"] = ValidationFolder(dir, "odd", otherClasses: true),
            ["{missing}"] = dir.File("missing"),
        };
        string Fill(string text) => folders.Aggregate(text, (t, f) => t.Replace(f.Key, f.Value, StringComparison.Ordinal));
        var outDir = dir.File("out");
        var (code, _, stderr) = FineTune(folders["{data}"], outDir, [.. args.Split(' ').Select(Fill)]);
        Assert.Equal(2, code);
        Assert.Equal("error: " + Fill(message), stderr.Trim());
        Assert.False(Directory.Exists(outDir));
    }
}

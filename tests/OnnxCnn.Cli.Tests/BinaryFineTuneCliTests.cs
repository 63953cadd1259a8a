using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class BinaryFineTuneCliTests
{
    [Fact]
    public void FineTune_BceRmsPropClippedWithLrGroup_LearnsAndExportsProbabilities_EvalReadsItAsBinary()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir);
        var outDir = Path.Combine(dir.Path, "run");
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "6", "--batch", "8", "--loss", "bce", "--optimizer", "rmsprop", "--centered", "--momentum", "0.5",
            "--clip-grad-norm", "1", "--lr", "0.003", "--trainable", "*", "--lr-group", "head.*=3", "--val-split", "0.25", "--seed", "1");
        Assert.True(code == 0, stderr + stdout);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        Assert.Equal(1.0, metrics.RootElement.GetProperty("validation").GetProperty("accuracy").GetDouble());
        Assert.Equal("bce", metrics.RootElement.GetProperty("loss").GetString());
        Assert.Equal("rmsprop", metrics.RootElement.GetProperty("optimizer").GetString());

        // One output column holding P(red), under the original output name, through a Sigmoid.
        var model = OnnxModel.Load(Path.Combine(outDir, "model.onnx"));
        var output = model.Graph.Output[0].Name;
        Assert.Equal("Sigmoid", model.Graph.Node.Single(n => n.Output.Contains(output)).OpType);
        using (var session = InferenceSession.Open(Path.Combine(outDir, "model.onnx")))
        {
            Assert.Equal([-1L, 1], session.Outputs[0].Dimensions);
        }

        var step = OnnxModel.Load(Path.Combine(outDir, "artifacts", "training_step.onnx"));
        Assert.Contains(step.Graph.Input, i => i.Name == "learning_rate:group1");

        var (evalCode, json, evalError) = Cli.Run("eval", Path.Combine(outDir, "model.onnx"), "--data", data, "--json");
        Assert.True(evalCode == 0, evalError);
        using var doc = JsonDocument.Parse(json);
        Assert.InRange(doc.RootElement.GetProperty("accuracy").GetDouble(), 0.9, 1.0);
        Assert.Equal(24, doc.RootElement.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt64()));
        Assert.Equal(2, doc.RootElement.GetProperty("perClass").GetArrayLength());

        // predict reads the single column as P(class 1): two labels, probabilities summing to 1, mostly right.
        var (predictCode, predictJson, predictError) = Cli.Run("predict", Path.Combine(outDir, "model.onnx"), data, "--json", "--top", "2");
        Assert.True(predictCode == 0, predictError);
        using var predictions = JsonDocument.Parse(predictJson);
        var rows = predictions.RootElement.EnumerateArray().ToList();
        Assert.Equal(24, rows.Count);
        var correct = 0;
        foreach (var row in rows)
        {
            var top = row.GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(2, top.Count);
            Assert.Equal(1.0, top.Sum(t => t.GetProperty("probability").GetDouble()), 5);
            var truth = Path.GetFileName(Path.GetDirectoryName(row.GetProperty("file").GetString()!));
            correct += top[0].GetProperty("label").GetString() == truth ? 1 : 0;
        }

        Assert.InRange(correct, 22, 24);
    }

    [Fact]
    public void FineTune_BceWithThreeClasses_IsUsageError()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        Directory.CreateDirectory(Path.Combine(data, "green"));
        File.Copy(Path.Combine(data, "red", "00.png"), Path.Combine(data, "green", "00.png"));
        var (code, _, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("o"), "--loss", "bce");
        Assert.Equal(2, code);
        Assert.Equal("error: --loss bce needs exactly 2 classes; the data has 3 (blue, green, red).", stderr.Trim());
        Assert.False(Directory.Exists(dir.File("o")));
    }

    [Theory]
    [InlineData("head.*", "error: --lr-group 'head.*' is not GLOBS=MULT (e.g. '/layer4/*=0.1').")]
    [InlineData("head.*=-1", "error: --lr-group 'head.*=-1' is not GLOBS=MULT (e.g. '/layer4/*=0.1').")]
    public void FineTune_MalformedLrGroup_IsUsageError(string group, string message)
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var (code, _, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("o"), "--lr-group", group);
        Assert.Equal(2, code);
        Assert.Equal(message, stderr.Trim());
    }
}

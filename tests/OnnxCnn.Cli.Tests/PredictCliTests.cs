using System.Text.Json;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Cli.Tests;

/// <summary>One fine-tune of the tiny ResNet on red-vs-blue, shared by the predict tests.</summary>
public sealed class FineTunedRedBlue : IDisposable
{
    private readonly TempDir dir = new();

    public FineTunedRedBlue()
    {
        Data = FineTuneCliTests.MakeDataset(dir, 8);
        Output = dir.File("run");
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", Data, "--out", Output,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", "4", "--batch", "4", "--optimizer", "adam", "--lr", "0.01", "--trainable", "*", "--val-split", "0.25", "--seed", "1");
        Assert.True(code == 0, stderr + stdout);
    }

    public string Data { get; }

    public string Output { get; }

    public string Model => Path.Combine(Output, "model.onnx");

    public string Scratch(string name) => dir.File(name);

    public void Dispose() => dir.Dispose();
}

public class PredictCliTests(FineTunedRedBlue run) : IClassFixture<FineTunedRedBlue>
{
    [Fact]
    public void FineTune_WritesCurvesAndConfusionCharts()
    {
        using var curves = ImageDecoder.DecodeFile(Path.Combine(run.Output, "curves.png"));
        Assert.Equal((1200, 540), (curves.Width, curves.Height));
        using var confusion = ImageDecoder.DecodeFile(Path.Combine(run.Output, "confusion.png"));
        Assert.True(confusion.Width >= 200 && confusion.Height >= 200);
        Assert.Empty(Directory.GetFiles(run.Output, "*.tmp"));
    }

    [Fact]
    public void Eval_ExistingConfusionPng_IsRefusedUntilOverwrite()
    {
        var png = run.Scratch("eval-existing.png");
        File.WriteAllText(png, "an earlier chart");
        var (code, _, stderr) = Cli.Run("eval", run.Model, "--data", run.Data, "--confusion", png);
        Assert.Equal(2, code);
        Assert.Equal($"error: --confusion '{png}' already exists; pass --overwrite to replace it.", stderr.Trim());
        Assert.Equal("an earlier chart", File.ReadAllText(png));

        (code, _, stderr) = Cli.Run("eval", run.Model, "--data", run.Data, "--confusion", png, "--overwrite");
        Assert.True(code == 0, stderr);
        using var image = ImageDecoder.DecodeFile(png);
        Assert.True(image.Width > 100);
    }

    [Fact]
    public void Eval_ConfusionOption_DrawsTheMatrixItPrints()
    {
        var png = run.Scratch("eval-confusion.png");
        var (code, stdout, stderr) = Cli.Run("eval", run.Model, "--data", run.Data, "--json", "--confusion", png);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var counts = doc.RootElement.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        using var image = ImageDecoder.DecodeFile(png);
        var (left, top, cell, width, height) = OnnxCnn.Training.Reports.Internal.ConfusionChart.Layout(["blue", "red"]);
        Assert.Equal((width, height), (image.Width, image.Height));
        var max = counts.SelectMany(r => r).Max();
        for (var r = 0; r < 2; r++)
        {
            for (var c = 0; c < 2; c++)
            {
                var row = image.Row(top + (r * cell) + 2);
                var i = (left + (c * cell) + 2) * 3;
                var expected = OnnxCnn.Training.Reports.Internal.ConfusionChart.CellColor(counts[r][c], max);
                Assert.Equal((expected.R, expected.G, expected.B), (row[i], row[i + 1], row[i + 2]));
            }
        }
    }

    [Fact]
    public void Predict_FineTunedModelWithoutFlags_JsonTopLabelsFromItsMetadata()
    {
        var (code, stdout, stderr) = Cli.Run("predict", run.Model, run.Data, "--json", "--top", "2");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var items = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(16, items.Length);
        // Folders walked recursively in sorted order: blue/00 … blue/07, red/00 … red/07.
        var files = items.Select(i => Path.GetRelativePath(run.Data, i.GetProperty("file").GetString()!).Replace('\\', '/')).ToArray();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"blue/{i:D2}.png").Concat(Enumerable.Range(0, 8).Select(i => $"red/{i:D2}.png")), files);
        var correct = 0;
        foreach (var item in items)
        {
            var top = item.GetProperty("top").EnumerateArray().ToArray();
            Assert.Equal(2, top.Length);
            Assert.Equal(["blue", "red"], top.Select(t => t.GetProperty("label").GetString()).Order());
            Assert.Equal(1.0, top.Sum(t => t.GetProperty("probability").GetDouble()), 4);
            Assert.True(top[0].GetProperty("probability").GetDouble() >= top[1].GetProperty("probability").GetDouble());
            correct += item.GetProperty("file").GetString()!.Contains(top[0].GetProperty("label").GetString()!, StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.InRange(correct, 14, 16);
    }

    [Fact]
    public void Predict_TextOutput_OneLinePerImage()
    {
        var image = Path.Combine(run.Data, "red", "03.png");
        var (code, stdout, stderr) = Cli.Run("predict", run.Model, image, "--top", "1");
        Assert.True(code == 0, stderr);
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(image)}: (red|blue) [01]\\.\\d{{4}}$", stdout.Trim());
    }

    [Fact]
    public void Predict_UnreadableImage_WarnsClassifiesTheRestAndExitsOne()
    {
        var folder = run.Scratch("mixed");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(run.Data, "blue", "00.png"), Path.Combine(folder, "a.png"), overwrite: true);
        File.WriteAllText(Path.Combine(folder, "b.png"), "not a png");
        var (code, stdout, stderr) = Cli.Run("predict", run.Model, folder, Path.Combine(folder, "gone.jpg"));
        Assert.Equal(1, code);
        Assert.StartsWith(Path.Combine(folder, "a.png") + ": ", stdout);
        var lines = stderr.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal($"warning: skipped '{Path.Combine(folder, "gone.jpg")}': no such file or folder", lines[0]);
        Assert.StartsWith($"warning: skipped '{Path.Combine(folder, "b.png")}': ", lines[1]);
        Assert.Equal("error: 2 of 3 images could not be read.", lines[2]);
    }

    [Fact]
    public void Predict_UnreadableImageMidFolderAcrossRuns_OutputKeepsFolderOrderInTextAndJson()
    {
        // 9 images in runs of 2 (decoded ahead while the model runs): the bad one sits in the middle of the third run.
        var folder = run.Scratch("ordered");
        Directory.CreateDirectory(folder);
        var names = Enumerable.Range(0, 9).Select(i => $"{i:D2}.png").ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            if (i == 5)
            {
                File.WriteAllText(Path.Combine(folder, names[i]), "not a png");
                continue;
            }

            File.Copy(Path.Combine(run.Data, i % 2 == 0 ? "red" : "blue", $"{i % 8:D2}.png"), Path.Combine(folder, names[i]), overwrite: true);
        }

        var expected = names.Where((_, i) => i != 5).Select(n => Path.Combine(folder, n)).ToArray();
        var (code, stdout, stderr) = Cli.Run("predict", run.Model, folder, "--batch", "2", "--top", "1");
        Assert.Equal(1, code);
        Assert.Equal(expected, stdout.Trim().Split('\n').Select(l => l[..l.LastIndexOf(": ", StringComparison.Ordinal)]));
        Assert.StartsWith($"warning: skipped '{Path.Combine(folder, names[5])}': ", stderr);
        Assert.EndsWith("error: 1 of 9 images could not be read.", stderr.Trim());

        (code, var json, _) = Cli.Run("predict", run.Model, folder, "--batch", "2", "--top", "1", "--json");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(expected, doc.RootElement.EnumerateArray().Select(e => e.GetProperty("file").GetString()));
    }

    [Fact]
    public void Predict_MissingModel_IsUsageError()
    {
        var (code, stdout, stderr) = Cli.Run("predict", run.Scratch("nope.onnx"), run.Data);
        Assert.Equal(2, code);
        Assert.Equal($"error: model file '{run.Scratch("nope.onnx")}' not found.", stderr.Trim());
        Assert.Empty(stdout);
    }

    [Fact]
    public void Predict_FolderWithoutImages_IsUsageError()
    {
        var empty = run.Scratch("empty");
        Directory.CreateDirectory(empty);
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "hi");
        var (code, _, stderr) = Cli.Run("predict", run.Model, empty);
        Assert.Equal(2, code);
        Assert.Equal($"error: no images found in '{empty}' (looked for .jpg, .jpeg, .png).", stderr.Trim());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void Predict_TopBelowOne_IsUsageError(string top)
    {
        var (code, _, stderr) = Cli.Run("predict", run.Model, run.Data, "--top", top);
        Assert.Equal(2, code);
        Assert.Equal($"error: --top must be 1 or more, got {top}.", stderr.Trim());
    }

    [Fact]
    public void Predict_TopNotANumber_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("predict", run.Model, run.Data, "--top", "many");
        Assert.Equal(2, code);
        Assert.StartsWith("error: Cannot parse argument 'many' for option '--top'", stderr.Trim());
    }

    [Fact]
    public void Predict_LabelsFileOfTheWrongLength_IsUsageError()
    {
        var labels = run.Scratch("three.txt");
        File.WriteAllText(labels, "a\nb\nc\n");
        var (code, stdout, stderr) = Cli.Run("predict", run.Model, run.Data, "--labels", labels);
        Assert.Equal(2, code);
        Assert.Equal($"error: the model scores 2 classes but 3 labels were given in '{labels}'.", stderr.Trim());
        Assert.Empty(stdout);
    }
}

public class PredictProbabilityTests
{
    /// <summary>GlobalAveragePool → Flatten → ×3 (→ Softmax): a pure-red 2×2 image gives logits [3, 0, 0].</summary>
    private static string ColourModel(TempDir dir, bool softmax)
    {
        var builder = new ModelBuilder()
            .Input("image", TensorProto.Types.DataType.Float, "N", 3, 2, 2)
            .Initializer("three", [3f], 1)
            .Node("GlobalAveragePool", ["image"], ["pooled"])
            .Node("Flatten", ["pooled"], ["flat"])
            .Node("Mul", ["flat", "three"], [softmax ? "logits" : "scores"]);
        if (softmax)
        {
            builder.Node("Softmax", ["logits"], ["scores"], Int("axis", 1));
        }

        builder.Output("scores", TensorProto.Types.DataType.Float, "N", 3)
            .Metadata("onnxcnn.labels", "red\ngreen\nblue")
            .Metadata("onnxcnn.preprocess", "resize=2x2,scale=1/255");
        using var red = RgbImage.Create(2, 2);
        for (var i = 0; i < red.Pixels.Length; i++)
        {
            red.Pixels[i] = (byte)(i % 3 == 0 ? 255 : 0);
        }

        PngEncoder.Save(red, dir.File("red.png"));
        return builder.Save(dir.File(softmax ? "softmax.onnx" : "logits.onnx"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Predict_LogitsOrSoftmaxOutput_ProbabilitiesAreOneSoftmax(bool softmax)
    {
        using var dir = new TempDir();
        var model = ColourModel(dir, softmax);
        var (code, stdout, stderr) = Cli.Run("predict", model, dir.File("red.png"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var top = doc.RootElement[0].GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(3, top.Length);
        Assert.Equal("red", top[0].GetProperty("label").GetString());
        // Softmax of [3, 0, 0] once; applying it twice would give 0.5515.
        var expected = Math.Exp(3) / (Math.Exp(3) + 2);
        Assert.Equal(expected, top[0].GetProperty("probability").GetDouble(), 5);
        Assert.Equal(["green", "blue"], top.Skip(1).Select(t => t.GetProperty("label").GetString()));
    }
}

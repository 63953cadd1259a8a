using System.Text.Json;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>The text-line spec through finetune → metadata → predict and eval (the Classifier reads the same rule).</summary>
public class TextLineCliTests
{
    /// <summary>Portrait 24×48 images, red or blue: a textline=32x32 spec resizes them to 16×32 and pads 16 zero columns.</summary>
    private static string PortraitDataset(TempDir dir)
    {
        var root = dir.File("lines");
        var random = new Random(11);
        foreach (var (name, channel) in new[] { ("blue", 2), ("red", 0) })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (var i = 0; i < 8; i++)
            {
                using var image = RgbImage.Create(24, 48);
                for (var p = 0; p < image.Pixels.Length; p++)
                {
                    image.Pixels[p] = (byte)(p % 3 == channel ? random.Next(150, 256) : random.Next(0, 120));
                }

                PngEncoder.Save(image, Path.Combine(root, name, $"{i:D2}.png"));
            }
        }

        return root;
    }

    [Fact]
    public void FineTune_TextLineSpec_PredictAndEvalReadItFromTheMetadata()
    {
        using var dir = new TempDir();
        var data = PortraitDataset(dir);
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", dir.File("run"),
            "--preprocess", "textline=32x32,scale=1/255,mean=0.5,std=0.5", "--epochs", "4", "--batch", "4", "--optimizer", "adam", "--lr", "0.01", "--trainable", "*", "--val-split", "0", "--seed", "1");
        Assert.True(code == 0, stderr + stdout);
        var model = Path.Combine(dir.File("run"), "model.onnx");

        var predict = Cli.Run("predict", model, data, "--json", "--top", "1");
        Assert.True(predict.Code == 0, predict.Err);
        using var doc = JsonDocument.Parse(predict.Out);
        var correct = doc.RootElement.EnumerateArray().Count(i => i.GetProperty("file").GetString()!.Contains(i.GetProperty("top")[0].GetProperty("label").GetString()!, StringComparison.Ordinal));
        Assert.InRange(correct, 14, 16);

        var eval = Cli.Run("eval", model, "--data", data, "--json");
        Assert.True(eval.Code == 0, eval.Err);
        using var metrics = JsonDocument.Parse(eval.Out);
        Assert.Equal(correct / 16.0, metrics.RootElement.GetProperty("accuracy").GetDouble(), 6);
    }

    [Fact]
    public void Eval_DataWithOtherClassCountThanTheModel_IsUsageError()
    {
        using var dir = new TempDir();
        var data = PortraitDataset(dir);
        var (code, stdout, stderr) = Cli.Run("eval", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--preprocess", "resize=32x32,scale=1/255");
        Assert.Equal(2, code);
        Assert.Equal("error: the model scores 10 classes but the data has 2 class folders (blue,red).", stderr.Trim());
        Assert.Empty(stdout);
    }

    [Fact]
    public void Predict_SpecThatDoesNotFitTheModel_IsUsageErrorNamingTheInput()
    {
        using var dir = new TempDir();
        var data = PortraitDataset(dir);
        var (code, _, stderr) = Cli.Run("predict", RepoPaths.Fixture("tiny_resnet", "model.onnx"), data);
        Assert.Equal(2, code);
        Assert.StartsWith("error: the model's input input: float32[batch,3,32,32] does not take the float N×3×224×224 images that preprocess spec 'resize=256,crop=224x224,", stderr);
    }
}

public class PreprocessTextLineCliTests
{
    [Fact]
    public void Preprocess_TextLineSpec_WritesThePaddedTensorThePipelineMakes()
    {
        using var dir = new TempDir();
        using (var image = RgbImage.Create(24, 48))
        {
            new Random(2).NextBytes(image.Pixels);
            PngEncoder.Save(image, dir.File("line.png"));
        }

        const string spec = "textline=32x40,scale=1/255,mean=0.5,std=0.5";
        var (code, _, stderr) = Cli.Run("preprocess", dir.File("line.png"), "--preprocess", spec, "--out", dir.File("line.npy"));
        Assert.True(code == 0, stderr);
        using var written = OnnxCnn.Runtime.Npy.Read(dir.File("line.npy"));
        Assert.Equal([1L, 3, 32, 40], written.Shape);
        using var decoded = ImageDecoder.DecodeFile(dir.File("line.png"));
        var expected = new float[3 * 32 * 40];
        ImageTransforms.Prepare(decoded, PreprocessSpec.Parse(spec), expected);
        Assert.Equal(expected, written.As<float>().Span.ToArray());
        Assert.Equal(0f, written.As<float>().Span[39]);
    }
}

using System.Text.Json;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary><c>graph input-size</c>, <c>graph head</c> on a headless backbone, and <c>finetune --head N</c> on one.</summary>
public class HeadOnBackboneCliTests
{
    private const string LastPool = "/features/features.30/MaxPool_output_0";

    /// <summary>zoo → cut → input-size → head → summary, at width 1/8: channels 8…64, a 64×4×4 map.</summary>
    [Fact]
    public void KerasRecipe_ZooCutInputSizeHeadSummary_CountsParameters()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Cli.Run("zoo", "vgg16", "--width-mult", "0.125", "-o", dir.File("vgg.onnx")).Code);
        var (code, stdout, stderr) = Cli.Run("graph", "cut", dir.File("vgg.onnx"), "--at", LastPool, "-o", dir.File("base.onnx"));
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = Cli.Run("graph", "input-size", dir.File("base.onnx"), "--size", "150x150", "-o", dir.File("base150.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains($"outputs: {LastPool} [batch,64,4,4]", stdout);
        (code, _, stderr) = Cli.Run("graph", "head", dir.File("base150.onnx"), "--classes", "1", "--pool", "flatten", "--hidden", "256", "-o", dir.File("keras.onnx"));
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = Cli.Run("summary", dir.File("keras.onnx"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);

        // The base: 13 convs of 3×3 with bias at widths 8,8,16,16,32×3,64×6.
        long[] widths = [8, 8, 16, 16, 32, 32, 32, 64, 64, 64, 64, 64, 64];
        var convs = widths.Select((w, i) => (i == 0 ? 3 : widths[i - 1]) * w * 9 + w).Sum();
        var head = (64 * 4 * 4 * 256) + 256 + 256 + 1;
        Assert.Equal(convs + head, doc.RootElement.GetProperty("totalParams").GetInt64());
        Assert.Equal(1, doc.RootElement.GetProperty("outputs")[0].GetProperty("shape")[1].GetInt64());
        using var session = InferenceSession.Open(dir.File("keras.onnx"));
        using var x = Tensor<float>.Create(2, 3, 150, 150);
        using var result = session.Run(x);
        Assert.Equal([2, 1], result[0].Value.As<float>().Shape.ToArray());
    }

    [Fact]
    public void GraphInputSize_Dynamic_SymbolicAndRuns()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Cli.Run("zoo", "vgg11", "--width-mult", "0.0625", "-o", dir.File("vgg.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "cut", dir.File("vgg.onnx"), "--at", "/features/features.20/MaxPool_output_0", "-o", dir.File("base.onnx")).Code);
        var (code, stdout, stderr) = Cli.Run("graph", "input-size", dir.File("base.onnx"), "--size", "dynamic", "-o", dir.File("free.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("input size: dynamic", stdout);
        using var session = InferenceSession.Open(dir.File("free.onnx"));
        Assert.Equal("[batch,3,height,width]", session.Inputs[0].ShapeText);
        using var x = Tensor<float>.Create(1, 3, 64, 96);
        using var result = session.Run(x);
        Assert.Equal([1, 32, 2, 3], result[0].Value.As<float>().Shape.ToArray());
    }

    [Fact]
    public void GraphInputSize_BakedInSize_OneLineExit2NoFile()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Cli.Run("zoo", "vgg11", "--width-mult", "0.0625", "-o", dir.File("vgg.onnx")).Code);
        var (code, _, stderr) = Cli.Run("graph", "input-size", dir.File("vgg.onnx"), "--size", "150x150", "-o", dir.File("out.onnx"));
        Assert.Equal(2, code);
        Assert.Equal("error: cannot change the input size: Gemm '/classifier/classifier.0/Gemm' has a constant weight for 1568 input features but would get 512 at 150x150; " +
            "the graph is bound to the size it was exported at (cut the model before that node with 'onnxcnn graph cut MODEL --at TENSOR' and put a new head on the cut model).", stderr.Trim());
        Assert.False(File.Exists(dir.File("out.onnx")));

        // The fix the message names works.
        Assert.Equal(0, Cli.Run("graph", "cut", dir.File("vgg.onnx"), "--at", "/features/features.20/MaxPool_output_0", "-o", dir.File("base.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "input-size", dir.File("base.onnx"), "--size", "150x150", "-o", dir.File("out.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "head", dir.File("out.onnx"), "--classes", "3", "--pool", "gap", "-o", dir.File("head.onnx")).Code);
    }

    [Theory]
    [InlineData("150", "error: --size '150' is not HxW with positive sizes (e.g. 150x150) or dynamic.")]
    [InlineData("0x5", "error: --size '0x5' is not HxW with positive sizes (e.g. 150x150) or dynamic.")]
    public void GraphInputSize_BadSize_IsUsageError(string size, string message)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli.Run("graph", "input-size", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--size", size, "-o", dir.File("out.onnx"));
        Assert.Equal(2, code);
        Assert.Equal(message, stderr.Trim());
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void GraphInputSize_MissingModel_IsOneLine()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli.Run("graph", "input-size", dir.File("none.onnx"), "--size", "64x64", "-o", dir.File("out.onnx"));
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("none.onnx", stderr);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void GraphHead_FeatureMapWithoutPool_Exit2AndTheNamedPoolsWork()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Cli.Run("zoo", "vgg11", "--width-mult", "0.0625", "-o", dir.File("vgg.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "cut", dir.File("vgg.onnx"), "--at", "/features/features.20/MaxPool_output_0", "-o", dir.File("base.onnx")).Code);
        var (code, _, stderr) = Cli.Run("graph", "head", dir.File("base.onnx"), "--classes", "2", "-o", dir.File("h.onnx"));
        Assert.Equal(2, code);
        Assert.Equal("error: cannot put a head on this model: its output '/features/features.20/MaxPool_output_0' is a feature map [batch,32,7,7]; " +
            "choose how it becomes features: --pool gap (global average, 32 features) or --pool flatten (C·H·W features).", stderr.Trim());
        Assert.False(File.Exists(dir.File("h.onnx")));
        foreach (var pool in new[] { "gap", "flatten" })
        {
            var (c, stdout, e) = Cli.Run("graph", "head", dir.File("base.onnx"), "--classes", "2", "--pool", pool, "-o", dir.File($"{pool}.onnx"));
            Assert.True(c == 0, e);
            Assert.Contains("outputs: logits [batch,2]", stdout);
        }

        (code, _, stderr) = Cli.Run("graph", "head", dir.File("base.onnx"), "--classes", "2", "--pool", "max", "-o", dir.File("h.onnx"));
        Assert.Equal(2, code);
        Assert.Equal("error: --pool 'max' is not supported (gap or flatten).", stderr.Trim());
    }

    /// <summary>A backbone with symbolic height and width and no classifier: finetune adds the head and trains it with layer4 (Conv gradients need known sizes) at the preprocessing's size.</summary>
    [Fact]
    public void FineTune_HeadlessBackboneWithDynamicSize_TrainsAtPreprocessSize()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir);
        Assert.Equal(0, Cli.Run("zoo", "resnet18", "--width-mult", "0.0625", "--input-size", "64x64", "-o", dir.File("r.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "cut", dir.File("r.onnx"), "--at", "/layer4/layer4.1/relu_1/Relu_output_0", "-o", dir.File("base.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "input-size", dir.File("base.onnx"), "--size", "dynamic", "-o", dir.File("free.onnx")).Code);
        var outDir = Path.Combine(dir.Path, "run");
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", dir.File("free.onnx"), "--data", data, "--out", outDir, "--head", "2", "--pool", "gap", "--trainable", "/layer4/*",
            "--preprocess", "resize=40x40,scale=1/255", "--epochs", "2", "--batch", "8", "--lr", "0.01", "--val-split", "0.25", "--seed", "1");
        Assert.True(code == 0, stderr + stdout);
        using var session = InferenceSession.Open(Path.Combine(outDir, "model.onnx"));
        Assert.Equal("[batch,3,40,40]", session.Inputs[0].ShapeText);
        Assert.Equal("[batch,2]", session.Outputs[0].ShapeText);
    }
}

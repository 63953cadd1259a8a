using System.Text.Json;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class ZooCliTests
{
    [Fact]
    public void Zoo_Resnet18_SummaryHasReferenceCounts()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = Cli.Run("zoo", "resnet18", "-o", dir.File("r18.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("11,689,512 trainable + 9,600 BatchNorm statistics", stdout);
        var summary = Cli.Run("summary", dir.File("r18.onnx"), "--json");
        using var doc = JsonDocument.Parse(summary.Out);
        Assert.Equal(11_699_112, doc.RootElement.GetProperty("totalParams").GetInt64());
        Assert.Equal(11_689_512, doc.RootElement.GetProperty("trainableParams").GetInt64());
        Assert.Equal(9_600, doc.RootElement.GetProperty("nonTrainableParams").GetInt64());
    }

    [Fact]
    public void Zoo_TinyResnet50_HeadReplaced_RunsInOrt()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Cli.Run("zoo", "resnet50", "--width-mult", "0.125", "--input-size", "32x32", "--classes", "10", "-o", dir.File("r50.onnx")).Code);
        var (code, _, stderr) = Cli.Run("graph", "head", dir.File("r50.onnx"), "--classes", "4", "--hidden", "16", "-o", dir.File("r50_4.onnx"));
        Assert.True(code == 0, stderr);
        using var session = InferenceSession.Open(dir.File("r50_4.onnx"));
        using var x = Tensor<float>.Filled(0.5f, 2, 3, 32, 32);
        using var result = session.Run(x);
        Assert.Equal([2L, 4], result.First<float>().Shape);
    }

    [Fact]
    public void Zoo_UnknownName_ListsKnownNames()
    {
        var (code, _, stderr) = Cli.Run("zoo", "alexnet", "-o", "/tmp/never.onnx");
        Assert.Equal(2, code);
        Assert.Equal("error: Unknown model 'alexnet'; known models: vgg11, vgg13, vgg16, vgg19, resnet18, resnet34, resnet50, resnet101.", stderr.Trim());
        Assert.False(File.Exists("/tmp/never.onnx"));
    }

    [Fact]
    public void Zoo_VggBadInputSize_ExplainsWhy()
    {
        var (code, _, stderr) = Cli.Run("zoo", "vgg11", "--input-size", "32x32", "-o", "/tmp/never.onnx");
        Assert.Equal(2, code);
        Assert.StartsWith("error: vgg11 needs an input whose feature map", stderr);
        Assert.DoesNotContain("(Parameter", stderr);
    }
}

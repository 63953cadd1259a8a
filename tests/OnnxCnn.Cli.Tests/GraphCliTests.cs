using System.Text.Json;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class GraphCliTests
{
    private static string Paddle => RepoPaths.Fixture("graphs", "paddle_style", "model.onnx");

    [Fact]
    public void Summary_Json_HasSchemaAndTotals()
    {
        var (code, stdout, stderr) = Cli.Run("summary", Paddle, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(616, root.GetProperty("totalParams").GetInt64());
        Assert.Equal(600, root.GetProperty("trainableParams").GetInt64());
        Assert.Equal(16, root.GetProperty("nonTrainableParams").GetInt64());
        Assert.Equal(9, root.GetProperty("opset").GetInt64());
        var layer = root.GetProperty("layers")[0];
        foreach (var key in new[] { "name", "op", "outputShape", "params", "trainable" })
        {
            Assert.True(layer.TryGetProperty(key, out _), key);
        }

        Assert.Equal("N", root.GetProperty("outputs")[0].GetProperty("shape")[0].GetString());
        Assert.Equal(4, root.GetProperty("outputs")[0].GetProperty("shape")[1].GetInt64());
        Assert.Equal("image", root.GetProperty("inputs")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Summary_InputShape_Applies()
    {
        var (code, stdout, _) = Cli.Run("summary", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--input-shape", "1x3x64x64", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("outputs")[0].GetProperty("shape")[0].GetInt64());
    }

    [Fact]
    public void Summary_BadInputShape_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("summary", Paddle, "--input-shape", "1x3x0x32");
        Assert.Equal(2, code);
        Assert.Equal("error: --input-shape '1x3x0x32': '0' is not a positive dimension (expected e.g. 1x3x224x224).", stderr.Trim());
        (code, _, stderr) = Cli.Run("summary", Paddle, "--input-shape", "1x3x32");
        Assert.Equal("error: --input-shape '1x3x32' has 3 dimensions; input 'image' has 4.", stderr.Trim());
    }

    [Fact]
    public void GraphHead_Paddle_WritesModelThatRunsAndStaysProbabilities()
    {
        using var dir = new TempDir();
        var output = dir.File("head.onnx");
        var (code, stdout, stderr) = Cli.Run("graph", "head", Paddle, "--classes", "5", "--hidden", "12", "--seed", "3", "-o", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("head: 5 classes", stdout);
        using var session = InferenceSession.Open(output);
        using var input = Npy.Read(RepoPaths.Fixture("graphs", "paddle_style", "input.npy"));
        using var result = session.Run(input);
        var p = result[0].Value.As<float>().ToArray();
        Assert.Equal(10, p.Length);
        Assert.Equal(1f, p.Take(5).Sum(), 1e-5f);
    }

    [Fact]
    public void GraphHead_OutputIsInput_IsRefused()
    {
        using var dir = new TempDir();
        File.Copy(Paddle, dir.File("m.onnx"));
        var (code, _, stderr) = Cli.Run("graph", "head", dir.File("m.onnx"), "--classes", "2", "-o", dir.File("m.onnx"));
        Assert.Equal(2, code);
        Assert.Equal($"error: -o '{dir.File("m.onnx")}' is the input model; write the edited model to a new file.", stderr.Trim());
    }

    [Fact]
    public void GraphCut_UnknownTensor_OneLineAndNoFile()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli.Run("graph", "cut", Paddle, "--at", "nope", "-o", dir.File("cut.onnx"));
        Assert.Equal(2, code);
        Assert.Equal("error: model has no tensor 'nope' (node outputs are listed by 'onnxcnn summary').", stderr.Trim());
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void GraphCut_Gap_GivesFeatureVector()
    {
        using var dir = new TempDir();
        var model = OnnxCnn.Graphs.OnnxModel.Load(Paddle);
        var tensor = model.Graph.Node.Last(n => n.OpType == "Conv").Output[0];
        var (code, stdout, stderr) = Cli.Run("graph", "cut", Paddle, "--at", tensor, "--pool", "gap", "-o", dir.File("cut.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("[N,", stdout);
    }

    [Fact]
    public void GraphClean_And_AppendSoftmax_And_Rename_Work()
    {
        using var dir = new TempDir();
        var tv = RepoPaths.Fixture("graphs", "torchvision_style", "model.onnx");
        Assert.Equal(0, Cli.Run("graph", "clean", tv, "--unshare", "-o", dir.File("clean.onnx")).Code);
        Assert.Equal(0, Cli.Run("graph", "append-softmax", dir.File("clean.onnx"), "-o", dir.File("soft.onnx")).Code);
        var (code, _, stderr) = Cli.Run("graph", "rename", dir.File("soft.onnx"), "--input", "input=image", "--output-name", "logits=probabilities", "-o", dir.File("renamed.onnx"));
        Assert.True(code == 0, stderr);
        using var session = InferenceSession.Open(dir.File("renamed.onnx"));
        Assert.Equal("image", session.Inputs[0].Name);
        Assert.Equal("probabilities", session.Outputs[0].Name);
    }

    [Fact]
    public void GraphDynamicBatch_WithExternalData_WritesDataFile()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli.Run("graph", "dynamic-batch", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--external-data", "-o", dir.File("d.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Single(Directory.GetFiles(dir.Path, "d.onnx.*.data"));
        using var session = InferenceSession.Open(dir.File("d.onnx"));
        Assert.Equal("batch", session.Inputs[0].SymbolicDimensions[0]);
    }

    [Fact]
    public void Graph_BadHidden_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("graph", "head", Paddle, "--classes", "2", "--hidden", "8,x", "-o", "/tmp/never.onnx");
        Assert.Equal(2, code);
        Assert.Equal("error: --hidden '8,x': 'x' is not a positive width.", stderr.Trim());
    }
}

using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Training.Tests;

/// <summary>Activations and Grad-CAM against PyTorch forward hooks and autograd (tests/fixtures/inspect/generate_gradcam.py).</summary>
public class InspectionParityTests
{
    private static readonly string Dir = RepoPaths.Fixture("inspect");

    private static JsonElement Case { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "case.json"))).RootElement;

    private static OnnxModel Model() => OnnxModel.Load(Path.Combine(Dir, "model.onnx"));

    private static float[] Load(string name)
    {
        using var t = Npy.Read(Path.Combine(Dir, name));
        return t.As<float>().ToArray();
    }

    [Theory]
    [InlineData("relu3_top")]
    [InlineData("relu2_other")]
    public void GradCam_FixtureLayerAndClass_MatchesPyTorchAutograd(string name)
    {
        var c = Case.GetProperty("cams").GetProperty(name);
        using var input = Npy.Read(Path.Combine(Dir, "input.npy"));
        using var cam = GradCam.Create(Model(), input.Shape, c.GetProperty("layer").GetString());
        var result = cam.Explain(input.As<float>(), c.GetProperty("class").GetInt32());
        var expected = Load($"cam.{name}.npy");
        Assert.Equal(c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(), new[] { result.Height, result.Width });
        AssertClose(expected, result.Map, 1e-4);
        AssertClose(Load($"cam.{name}.upsampled.npy"), HeatmapOverlay.Upsample(result.Map, result.Height, result.Width, 32, 32), 1e-4);
    }

    [Fact]
    public void GradCam_Defaults_ExplainTopClassAtLastFeatureMap()
    {
        var c = Case.GetProperty("cams").GetProperty("relu3_top");
        using var input = Npy.Read(Path.Combine(Dir, "input.npy"));
        var model = Model();
        Assert.Equal(c.GetProperty("layer").GetString(), GradCam.DefaultLayer(model).Tensor);
        using var cam = GradCam.Create(model, input.Shape);
        var result = cam.Explain(input.As<float>());
        Assert.Equal(Case.GetProperty("top").GetInt32(), result.ClassIndex);
        AssertClose(Load("logits.npy"), result.Logits, 1e-4);
        Assert.Equal(result.Logits[result.ClassIndex], result.Score);
        AssertClose(Load("cam.relu3_top.npy"), result.Map, 1e-4);
    }

    [Fact]
    public void GradCam_UnknownLayer_ListsFeatureMaps()
    {
        var e = Assert.Throws<ArgumentException>(() => GradCam.Create(Model(), [1, 3, 32, 32], "/nope"));
        Assert.Contains("'/nope' is no tensor or node", e.Message, StringComparison.Ordinal);
        Assert.Contains("/relu3/Relu_output_0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GradCam_LayerAfterPooling_IsRejectedAsNotAFeatureMap()
    {
        var e = Assert.Throws<ArgumentException>(() => GradCam.Create(Model(), [1, 3, 32, 32], "/gap/GlobalAveragePool_output_0"));
        Assert.Contains("is not a feature map", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Activations_DefaultLayers_AreConvLayersThroughActivationAndPools()
    {
        var layers = Activations.DefaultLayers(Model());
        Assert.Equal(["/relu1/Relu_output_0", "/pool1/MaxPool_output_0", "/relu2/Relu_output_0", "/pool2/MaxPool_output_0", "/relu3/Relu_output_0"],
            layers.Select(l => l.Tensor));
        Assert.Equal(["/conv1/Conv", "/pool1/MaxPool", "/conv2/Conv", "/pool2/MaxPool", "/conv3/Conv"], layers.Select(l => l.Name));
    }

    [Fact]
    public void Activations_EveryHookedModule_MatchesPyTorchForwardHooks()
    {
        var model = Model();
        var hooked = Case.GetProperty("activations").EnumerateObject().ToList();
        var layers = Activations.FindLayers(model, hooked.Select(h => h.Value.GetProperty("tensor").GetString()!).ToList());
        using var input = Npy.Read(Path.Combine(Dir, "input.npy"));
        var outputs = Activations.Compute(model, input.As<float>(), layers);
        Assert.Equal(hooked.Count, outputs.Count);
        foreach (var (h, a) in hooked.Zip(outputs))
        {
            Assert.Equal(h.Value.GetProperty("tensor").GetString(), a.Layer.Tensor);
            Assert.Equal(h.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), a.Shape);
            AssertClose(Load($"act.{h.Name}.npy"), a.Values, 1e-4);
        }
    }

    [Fact]
    public void Activations_FromImageFileWithModelPreprocessing_MatchPyTorch()
    {
        var model = Model();
        var spec = PreprocessSpec.Parse(Case.GetProperty("preprocess").GetString()!);
        using var image = InspectionImage.Load(Path.Combine(Dir, "image.png"), spec, model);
        AssertClose(Load("input.npy"), image.Tensor.ToArray(), 1e-6);
        var relu1 = Activations.Compute(model, image.Tensor, Activations.FindLayers(model, ["/relu1/*"]));
        AssertClose(Load("act.relu1.npy"), relu1[0].Values, 1e-4);
    }

    [Fact]
    public void FindLayers_NoMatch_ListsSomeLayerNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Activations.FindLayers(Model(), ["/conv9*"]));
        Assert.Contains("'/conv9*' matches no node or tensor", e.Message, StringComparison.Ordinal);
        Assert.Contains("/conv1/Conv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InspectionImage_WrongSizeForFixedInput_SaysWhichResizeToAdd()
    {
        using var big = RgbImage.Create(40, 36);
        var e = Assert.Throws<ArgumentException>(() => InspectionImage.FromImage(big, PreprocessSpec.Parse("scale=1/255"), Model()));
        Assert.Contains("comes out 36x40", e.Message, StringComparison.Ordinal);
        Assert.Contains("resize=32x32", e.Message, StringComparison.Ordinal);
    }

    internal static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1e-12, expected.Max(Math.Abs));
        for (var i = 0; i < expected.Length; i++)
        {
            // Relative to the largest value: maps are small where the class score barely depends on them.
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"[{i}]: expected {expected[i]}, got {actual[i]} (scale {scale})");
        }
    }
}

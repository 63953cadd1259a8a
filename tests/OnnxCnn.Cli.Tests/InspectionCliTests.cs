using System.Text.Json;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Cli.Tests;

/// <summary><c>activations</c> and <c>explain</c> on the PyTorch-generated fixture (tests/fixtures/inspect/generate_gradcam.py).</summary>
public class InspectionCliTests
{
    private static readonly string Dir = RepoPaths.Fixture("inspect");
    private static readonly string Model = Path.Combine(Dir, "model.onnx");
    private static readonly string Image = Path.Combine(Dir, "image.png");

    private static JsonElement Case { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "case.json"))).RootElement;

    [Fact]
    public void Activations_Defaults_OneGridAndNpyPerLayerMatchingPyTorch()
    {
        using var tmp = new TempDir();
        var output = tmp.File("act");
        var (code, stdout, stderr) = Cli.Run("activations", Model, Image, "-o", output, "--npy");
        Assert.True(code == 0, stderr);
        string[] stems = ["01_conv1_Conv", "02_pool1_MaxPool", "03_conv2_Conv", "04_pool2_MaxPool", "05_conv3_Conv"];
        Assert.Equal(stems.SelectMany(s => new[] { s + ".npy", s + ".png" }).Order(StringComparer.Ordinal),
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        string[] modules = ["relu1", "pool1", "relu2", "pool2", "relu3"];
        var titles = Titles(stdout);
        foreach (var (stem, module) in stems.Zip(modules))
        {
            using var raw = Npy.Read(Path.Combine(output, stem + ".npy"));
            using var expected = Npy.Read(Path.Combine(Dir, $"act.{module}.npy"));
            Assert.Equal(expected.Shape, raw.Shape);
            var (e, a) = (expected.As<float>().ToArray(), raw.As<float>().ToArray());
            Assert.All(e.Zip(a), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * (1 + Math.Abs(p.First)), $"{stem}: {p.First} vs {p.Second}"));
            using var png = ImageDecoder.DecodeFile(Path.Combine(output, stem + ".png"));
            var (c, h, w) = ((int)raw.Shape[1], (int)raw.Shape[2], (int)raw.Shape[3]);
            var layout = ActivationGrid.Layout(c, h, w, 16, titles[stem]);
            Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
            Assert.Equal((1, c), (layout.Rows, layout.Columns));
        }

        Assert.Contains("/conv2/Conv → /relu2/Relu_output_0  1×16×16×16", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Activations_LayersAndPerRow_DrawOnlyThoseInThatManyColumns()
    {
        using var tmp = new TempDir();
        var (code, stdout, stderr) = Cli.Run("activations", Model, Image, "-o", tmp.Path, "--layers", "/relu2/*,/pool2/MaxPool_output_0", "--per-row", "5");
        Assert.True(code == 0, stderr);
        Assert.Equal(["01_relu2_Relu.png", "02_pool2_MaxPool.png"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var png = ImageDecoder.DecodeFile(tmp.File("01_relu2_Relu.png"));
        var layout = ActivationGrid.Layout(16, 16, 16, 5, Titles(stdout)["01_relu2_Relu"]);
        Assert.Equal("/relu2/Relu → /relu2/Relu_output_0  1×16×16×16", Titles(stdout)["01_relu2_Relu"]);
        Assert.Equal((4, 5), (layout.Rows, layout.Columns));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
    }

    [Fact]
    public void Explain_Defaults_TopClassCamMatchesPyTorchAndOverlayIsImageSized()
    {
        using var tmp = new TempDir();
        var (code, stdout, stderr) = Cli.Run("explain", Model, Image, "-o", tmp.File("heat.png"), "--cam", tmp.File("cam.npy"));
        Assert.True(code == 0, stderr);
        Assert.Contains("Grad-CAM of 'yak' (class 4", stdout, StringComparison.Ordinal);
        AssertCam(tmp.File("cam.npy"), "relu3_top");
        using var heat = ImageDecoder.DecodeFile(tmp.File("heat.png"));
        Assert.Equal((32, 32), (heat.Width, heat.Height));
    }

    [Fact]
    public void Explain_ClassLabelAndLayer_MatchesPyTorchForThatClass()
    {
        var c = Case.GetProperty("cams").GetProperty("relu2_other");
        using var tmp = new TempDir();
        var (code, stdout, stderr) = Cli.Run("explain", Model, Image, "--class", c.GetProperty("label").GetString()!, "--layer", c.GetProperty("layer").GetString()!,
            "-o", tmp.File("heat.png"), "--cam", tmp.File("cam.npy"), "--colormap", "viridis", "--alpha", "0.6");
        Assert.True(code == 0, stderr);
        Assert.Contains("(16×16)", stdout, StringComparison.Ordinal);
        AssertCam(tmp.File("cam.npy"), "relu2_other");
    }

    [Fact]
    public void Explain_ExistingOutputWithOverwrite_IsReplaced()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("heat.png"), "old");
        var (code, _, stderr) = Cli.Run("explain", Model, Image, "-o", tmp.File("heat.png"), "--overwrite");
        Assert.True(code == 0, stderr);
        using var heat = ImageDecoder.DecodeFile(tmp.File("heat.png"));
        Assert.Equal(["heat.png"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("missing-model", "model file '")]
    [InlineData("missing-image", "image file '")]
    [InlineData("not-an-image", "format is not recognised")]
    [InlineData("wrong-layers", "'/conv9*' matches no node or tensor of the model; layers include /conv1/Conv")]
    [InlineData("flat-layer", "is [1,16], not an N×C×H×W feature map")]
    [InlineData("existing", "already exists; pass --overwrite")]
    [InlineData("per-row", "--per-row must be 1 or more")]
    [InlineData("wrong-size", "comes out 16x16 (H×W) after preprocessing")]
    public void Activations_BadInput_OneLineExitTwoNothingWritten(string kind, string message)
    {
        using var tmp = new TempDir();
        var output = tmp.File("act");
        var (model, image, extra) = BadArguments(kind, tmp);
        if (kind == "existing")
        {
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "03_conv2_Conv.png"), "mine");
        }

        var (code, stdout, stderr) = Cli.Run(["activations", model, image, "-o", output, "--npy", .. extra]);
        AssertUsageError(code, stderr, message);
        Assert.Equal("", stdout);
        Assert.Equal(kind == "existing" ? ["03_conv2_Conv.png"] : [], Directory.Exists(output) ? Directory.GetFiles(output).Select(Path.GetFileName) : []);
        if (kind == "existing")
        {
            Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "03_conv2_Conv.png")));
        }
    }

    [Theory]
    [InlineData("missing-model", "model file '")]
    [InlineData("missing-image", "image file '")]
    [InlineData("wrong-layer", "layer '/nope' is no tensor or node of the model; feature maps include")]
    [InlineData("class", "--class 'zebra' is not a class of the model; its labels are cat, dog, fox, owl, yak.")]
    [InlineData("existing", "-o '")]
    [InlineData("existing-cam", "--cam '")]
    [InlineData("colormap", "--colormap must be jet or viridis")]
    public void Explain_BadInput_OneLineExitTwoNothingWritten(string kind, string message)
    {
        using var tmp = new TempDir();
        var (model, image, extra) = BadArguments(kind, tmp);
        if (kind == "existing")
        {
            File.WriteAllText(tmp.File("heat.png"), "mine");
        }

        if (kind == "existing-cam")
        {
            File.WriteAllText(tmp.File("cam.npy"), "mine");
        }

        string[] args = ["explain", model, image, "-o", tmp.File("heat.png"), "--cam", tmp.File("cam.npy"), .. extra];
        var (code, stdout, stderr) = Cli.Run(args);
        AssertUsageError(code, stderr, message);
        Assert.Equal("", stdout);
        var before = kind switch { "existing" => new[] { "heat.png" }, "existing-cam" => ["cam.npy"], _ => [] };
        Assert.Equal(before, Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
        foreach (var f in before)
        {
            Assert.Equal("mine", File.ReadAllText(tmp.File(f)));
        }
    }

    [Fact]
    public void Explain_ClassIndexWithoutLabels_IsAccepted()
    {
        using var tmp = new TempDir();
        var (code, stdout, stderr) = Cli.Run("explain", Model, Image, "--class", "0", "-o", tmp.File("heat.png"));
        Assert.True(code == 0, stderr);
        Assert.Contains("Grad-CAM of 'cat' (class 0", stdout, StringComparison.Ordinal);
    }

    /// <summary>Each written grid's title, by file stem, from the command's "FILE.png  TITLE" lines.</summary>
    private static Dictionary<string, string> Titles(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Split(".png  ", 2))
            .ToDictionary(p => Path.GetFileName(p[0]), p => p[1]);

    private static (string Model, string Image, string[] Extra) BadArguments(string kind, TempDir tmp)
    {
        if (kind == "not-an-image")
        {
            File.WriteAllText(tmp.File("bad.png"), "not a png");
        }

        return kind switch
        {
            "missing-model" => (tmp.File("nope.onnx"), Image, []),
            "missing-image" => (Model, tmp.File("nope.jpg"), []),
            "not-an-image" => (Model, tmp.File("bad.png"), []),
            "wrong-layers" => (Model, Image, ["--layers", "/conv9*"]),
            "wrong-layer" => (Model, Image, ["--layer", "/nope"]),
            "flat-layer" => (Model, Image, ["--layers", "/flatten/*"]),
            "class" => (Model, Image, ["--class", "zebra"]),
            "per-row" => (Model, Image, ["--per-row", "0"]),
            "wrong-size" => (Model, Image, ["--preprocess", "resize=16x16,scale=1/255"]),
            "colormap" => (Model, Image, ["--colormap", "rainbow"]),
            _ => (Model, Image, []),
        };
    }

    private static void AssertUsageError(int code, string stderr, string message)
    {
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    private static void AssertCam(string path, string name)
    {
        using var actual = Npy.Read(path);
        using var expected = Npy.Read(Path.Combine(Dir, $"cam.{name}.npy"));
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.As<float>().ToArray();
        var a = actual.As<float>().ToArray();
        var scale = e.Max();
        Assert.All(e.Zip(a), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * scale, $"{p.First} vs {p.Second}"));
    }
}

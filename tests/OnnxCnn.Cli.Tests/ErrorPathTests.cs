using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>
/// Every command answers bad input the same way: one line on standard error that names the wrong
/// thing, exit code 2, no stack trace (that needs --verbose), and nothing written.
/// </summary>
public class ErrorPathTests
{
    private const string Missing = "/nonexistent-onnxcnn/missing";

    private static string Tiny => RepoPaths.Fixture("tiny_resnet", "model.onnx");

    private static string Image => RepoPaths.Fixture("decode", "jpeg_444.jpg");

    /// <summary>A command line with a bad value, and the text the error line must contain. OUT is a fresh path in a temporary folder.</summary>
    public static TheoryData<string, string[], string> BadInputs() => new()
    {
        { "info: missing model", ["info", Missing + ".onnx"], Missing + ".onnx" },
        { "summary: missing model", ["summary", Missing + ".onnx"], Missing + ".onnx" },
        { "summary: bad input shape", ["summary", Tiny, "--input-shape", "1x3xAx4"], "--input-shape" },
        { "infer: missing model", ["infer", Missing + ".onnx", "--input", "x.npy", "--out", "OUT"], Missing + ".onnx" },
        { "infer: missing input", ["infer", Tiny, "--input", Missing + ".npy", "--out", "OUT"], Missing + ".npy" },
        { "graph head: missing model", ["graph", "head", Missing + ".onnx", "--classes", "2", "-o", "OUT"], Missing + ".onnx" },
        { "graph head: bad classes", ["graph", "head", Tiny, "--classes", "two", "-o", "OUT"], "--classes" },
        { "graph cut: unknown tensor", ["graph", "cut", Tiny, "--at", "no_such_tensor", "-o", "OUT"], "no_such_tensor" },
        { "graph clean: missing model", ["graph", "clean", Missing + ".onnx", "-o", "OUT"], Missing + ".onnx" },
        { "zoo: unknown name", ["zoo", "resnet7", "-o", "OUT"], "resnet7" },
        { "zoo: bad input size", ["zoo", "resnet18", "--input-size", "big", "-o", "OUT"], "--input-size" },
        { "finetune: missing model", ["finetune", "--model", Missing + ".onnx", "--data", Missing, "--out", "OUT"], Missing },
        { "finetune: missing data", ["finetune", "--model", Tiny, "--data", Missing, "--out", "OUT", "--head", "2"], Missing },
        { "finetune: bad epochs", ["finetune", "--model", Tiny, "--data", Missing, "--out", "OUT", "--epochs", "many"], "--epochs" },
        { "eval: missing model", ["eval", Missing + ".onnx", "--data", "."], Missing + ".onnx" },
        { "eval: missing data", ["eval", Tiny, "--data", Missing, "--preprocess", "resize=32x32"], Missing },
        { "predict: missing model", ["predict", Missing + ".onnx", Image], Missing + ".onnx" },
        { "predict: bad top", ["predict", Tiny, Image, "--top", "x"], "--top" },
        { "preprocess: missing image", ["preprocess", Missing + ".jpg", "--out", "OUT"], Missing + ".jpg" },
        { "preprocess: bad spec", ["preprocess", Image, "--preprocess", "resize=banana", "--out", "OUT"], "banana" },
        { "augment-preview: missing image", ["augment-preview", Missing + ".jpg", "--augment", "hflip", "-o", "OUT"], Missing + ".jpg" },
        { "augment-preview: bad spec", ["augment-preview", Image, "--augment", "rotation=lots", "-o", "OUT"], "rotation" },
        { "bench infer: missing model", ["bench", "infer", Missing + ".onnx"], Missing + ".onnx" },
        { "bench train: missing model", ["bench", "train", Missing + ".onnx", "--classes", "2", "--trainable", "*"], Missing + ".onnx" },
        { "bench preprocess: missing data", ["bench", "preprocess", "--data", Missing], Missing },
        { "unknown command", ["frobnicate"], "frobnicate" },
        { "unknown option", ["info", Tiny, "--frobnicate"], "--frobnicate" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Command_BadInput_IsOneLineExitTwoAndWritesNothing(string name, string[] args, string named)
    {
        using var dir = new TempDir();
        var output = dir.File("out");
        var (code, stdout, stderr) = Cli.Run(args.Select(a => a == "OUT" ? output : a).ToArray());

        Assert.True(code == 2, $"{name}: exit {code}; stderr: {stderr}; stdout: {stdout}");
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Command_CorruptModel_IsOneLineExitTwo_AndVerboseAddsTheStack()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Tiny);
        var truncated = dir.File("truncated.onnx");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);

        var (code, _, stderr) = Cli.Run("info", truncated);
        Assert.True(code == 2, stderr);
        Assert.Contains("truncated.onnx", Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);

        var (verboseCode, _, verbose) = Cli.Run("info", truncated, "--verbose");
        Assert.Equal(2, verboseCode);
        Assert.Contains("   at ", verbose, StringComparison.Ordinal);
    }
}

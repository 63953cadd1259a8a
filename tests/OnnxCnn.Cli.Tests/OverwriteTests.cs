using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>No command replaces an existing result unless told: the refusal names the path and the flag and leaves the file byte-identical.</summary>
public class OverwriteTests
{
    private static string Tiny => RepoPaths.Fixture("tiny_resnet", "model.onnx");

    private static string Image => RepoPaths.Fixture("decode", "jpeg_444.jpg");

    /// <summary>Each command's arguments with OUT standing for the output path, and the name of the file that must survive (relative to OUT for folders).</summary>
    public static TheoryData<string, string[], string?> Writers() => new()
    {
        { "graph head", ["graph", "head", Tiny, "--classes", "3", "-o", "OUT"], null },
        { "graph clean", ["graph", "clean", Tiny, "-o", "OUT"], null },
        { "graph dynamic-batch", ["graph", "dynamic-batch", Tiny, "--external-data", "-o", "OUT"], null },
        { "zoo", ["zoo", "resnet18", "--width-mult", "0.125", "--input-size", "32x32", "--classes", "2", "-o", "OUT"], null },
        { "preprocess", ["preprocess", Image, "--preprocess", "resize=32x32,scale=1/255", "--out", "OUT"], null },
        { "augment-preview", ["augment-preview", Image, "--augment", "hflip", "--preprocess", "resize=16x16", "--count", "2", "-o", "OUT"], null },
        { "infer", ["infer", Tiny, "--input", RepoPaths.Fixture("tiny_resnet", "input.npy"), "--out", "OUT"], "logits.npy" },
    };

    [Theory]
    [MemberData(nameof(Writers))]
    public void Command_ExistingOutput_IsRefusedUntilOverwrite(string name, string[] args, string? fileInFolder)
    {
        using var dir = new TempDir();
        var output = dir.File("out");
        var kept = output;
        if (fileInFolder is not null)
        {
            Directory.CreateDirectory(output);
            kept = Path.Combine(output, fileInFolder);
        }

        File.WriteAllText(kept, "an earlier result");
        var withOutput = args.Select(a => a == "OUT" ? output : a).ToArray();

        var (code, stdout, stderr) = Cli.Run(withOutput);
        Assert.True(code == 2, $"{name}: exit {code}; {stderr}{stdout}");
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(fileInFolder is null ? output : Path.GetFileName(kept), line, StringComparison.Ordinal);
        Assert.Contains("--overwrite", line, StringComparison.Ordinal);
        Assert.Equal("an earlier result", File.ReadAllText(kept));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));

        var (again, _, err) = Cli.Run([.. withOutput, "--overwrite"]);
        Assert.True(again == 0, $"{name} --overwrite: exit {again}; {err}");
        Assert.NotEqual("an earlier result", File.ReadAllText(kept));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial", SearchOption.AllDirectories));
    }
}

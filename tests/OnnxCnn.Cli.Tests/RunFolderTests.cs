using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary><c>finetune --out</c> never replaces an earlier run unless told: --resume continues it, --overwrite replaces it.</summary>
public class RunFolderTests
{
    private static string[] Args(string data, string outDir, params string[] extra) =>
        ["finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir, "--preprocess", "resize=32x32,scale=1/255",
            "--batch", "8", "--trainable", "*", "--val-split", "0.25", "--seed", "1", .. extra, .. extra.Contains("--epochs") ? Array.Empty<string>() : ["--epochs", "1"]];

    private static SortedDictionary<string, string> Snapshot(string folder) =>
        new(Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    [Fact]
    public void Finetune_IntoAFinishedRun_IsRefusedAndLeavesItByteIdentical_UntilOverwrite()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        var outDir = dir.File("run");
        var (first, _, firstErr) = Cli.Run(Args(data, outDir));
        Assert.True(first == 0, firstErr);
        var before = Snapshot(outDir);

        var (code, stdout, stderr) = Cli.Run(Args(data, outDir, "--epochs", "2"));
        Assert.True(code == 2, stderr + stdout);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith($"error: --out '{outDir}' already holds a run (", line, StringComparison.Ordinal);
        Assert.Contains("--resume", line, StringComparison.Ordinal);
        Assert.Contains("--overwrite", line, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(outDir));

        // A setting refused after the check leaves the earlier run intact even with --overwrite.
        (code, _, stderr) = Cli.Run(Args(data, outDir, "--overwrite", "--optimizer", "sgd", "--dropout", "1.5"));
        Assert.True(code == 2, stderr);
        Assert.Equal(before, Snapshot(outDir));

        (code, _, stderr) = Cli.Run(Args(data, outDir, "--overwrite", "--epochs", "2"));
        Assert.True(code == 0, stderr);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(outDir, "history.csv")).Length);
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Finetune_IntoAFolderWithOtherFiles_IsRefusedEvenWithOverwrite()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        var outDir = dir.File("mine");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "mine");

        foreach (var extra in new[] { Array.Empty<string>(), ["--overwrite"] })
        {
            var (code, _, stderr) = Cli.Run(Args(data, outDir, extra));
            Assert.True(code == 2, stderr);
            Assert.Equal($"error: --out '{outDir}' holds 'notes.txt', which is not part of an OnnxCnn run; choose a new or empty folder.", stderr.Trim());
            Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName));
        }
    }

    [Fact]
    public void Finetune_ResumeWithOverwrite_IsAUsageError()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var (code, _, stderr) = Cli.Run(Args(data, dir.File("run"), "--resume", "--overwrite"));
        Assert.Equal(2, code);
        Assert.Equal("error: --resume continues the run in --out and --overwrite replaces it; give one of them.", stderr.Trim());
        Assert.False(Directory.Exists(dir.File("run")));
    }
}

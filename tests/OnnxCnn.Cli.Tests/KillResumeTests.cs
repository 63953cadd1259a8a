using System.Diagnostics;
using System.Globalization;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>
/// <c>finetune</c> in a child process killed with SIGKILL (no cleanup, no finally blocks), then
/// resumed: the run must end exactly where an uninterrupted run ends.
/// </summary>
public class KillResumeTests
{
    private const int Epochs = 6;

    [Fact]
    public void Finetune_KilledMidRunThenResumed_EqualsTheUninterruptedRun()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 12);
        // Augmentation makes auto mode end-to-end: the prefix runs on every batch, every epoch.
        string[] Args(string outDir) => ["finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir,
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", Epochs.ToString(CultureInfo.InvariantCulture), "--batch", "4",
            "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.02", "--trainable", "*",
            "--augment", "hflip,rotation=10,brightness=0.2", "--schedule", "cosine", "--val-split", "0.25", "--seed", "5",
            "--log-steps", Path.Combine(outDir, "steps.csv")];

        var full = dir.File("full");
        var (code, stdout, stderr) = Cli.Run(Args(full));
        Assert.True(code == 0, stderr + stdout);

        // Kill after a checkpoint of an epoch drawn at random (not the last), a moment into the next epoch.
        var random = new Random(Environment.TickCount);
        var part = dir.File("part");
        KillReport? kill = null;
        for (var attempt = 0; attempt < 3 && kill is null; attempt++)
        {
            if (Directory.Exists(part))
            {
                Directory.Delete(part, recursive: true);
            }

            var afterEpoch = attempt == 0 ? random.Next(1, Epochs - 1) : 1;
            kill = ChildProcess.KillWhen(Args(part), () => HistoryEpochs(part) >= afterEpoch && File.Exists(Path.Combine(part, "artifacts", "checkpoint.onnx")),
                TimeSpan.FromMilliseconds(attempt == 0 ? random.Next(0, 150) : 0));
        }

        Assert.True(kill is not null, "the child process finished three times before it could be killed");
        var epochsBefore = HistoryEpochs(part);
        Assert.InRange(epochsBefore, 1, Epochs - 1);
        Assert.False(File.Exists(Path.Combine(part, "model.onnx")), "a killed run has no exported model");

        (code, stdout, stderr) = Cli.Run([.. Args(part), "--resume"]);
        Assert.True(code == 0, stderr + stdout);

        // Every column but the wall-clock seconds, as text: bitwise equal numbers.
        Assert.Equal(HistoryWithoutSeconds(full), HistoryWithoutSeconds(part));
        Assert.Equal(Epochs, HistoryWithoutSeconds(part).Length);
        Assert.Equal(File.ReadAllText(Path.Combine(full, "steps.csv")), File.ReadAllText(Path.Combine(part, "steps.csv")));
        Assert.Equal(Initializers(Path.Combine(full, "model.onnx")), Initializers(Path.Combine(part, "model.onnx")));
        Assert.Equal(Initializers(Path.Combine(full, "artifacts", "checkpoint.onnx")), Initializers(Path.Combine(part, "artifacts", "checkpoint.onnx")));
        Assert.Empty(Directory.GetFiles(part, "*.tmp", SearchOption.AllDirectories));
    }

    internal static int HistoryEpochs(string outDir)
    {
        var path = Path.Combine(outDir, "history.csv");
        return File.Exists(path) ? File.ReadAllLines(path).Length - 1 : 0;
    }

    private static string[] HistoryWithoutSeconds(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, "history.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..6])).ToArray();

    internal static SortedDictionary<string, string> Initializers(string path) =>
        new(OnnxModel.Load(path).Graph.Initializer.ToDictionary(t => t.Name, t => Convert.ToHexString(t.RawData.Span)), StringComparer.Ordinal);
}

/// <summary>What happened when a child process was killed.</summary>
internal sealed record KillReport(TimeSpan Elapsed);

/// <summary>Runs the CLI as a child process and SIGKILLs it at a chosen moment.</summary>
internal static class ChildProcess
{
    /// <summary>
    /// Starts <c>onnxcnn ARGS</c>, polls <paramref name="condition"/> every millisecond or so, waits
    /// <paramref name="delay"/> once it holds, then kills the process tree. Null when the process
    /// exited by itself first (nothing was killed); a failure when it exited with an error.
    /// </summary>
    public static KillReport? KillWhen(string[] args, Func<bool> condition, TimeSpan delay, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "onnxcnn.dll"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var p = Process.Start(info)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        while (!condition())
        {
            if (p.HasExited)
            {
                Assert.True(p.ExitCode == 0, $"child exited with {p.ExitCode}: {errTask.Result}{outTask.Result}");
                return null;
            }

            if (clock.Elapsed > limit)
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"condition not met within {limit}: {outTask.Result}");
            }

            Thread.Sleep(1);
        }

        if (delay > TimeSpan.Zero)
        {
            Thread.Sleep(delay);
        }

        if (p.HasExited)
        {
            return null;
        }

        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        _ = outTask.Result;
        _ = errTask.Result;
        Assert.NotEqual(0, p.ExitCode);
        return new KillReport(clock.Elapsed);
    }
}

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

        // A process that ended by itself just before the signal was not killed.
        return p.ExitCode == 0 ? null : new KillReport(clock.Elapsed);
    }
}

/// <summary>
/// <c>finetune</c> of a model with a large checkpoint, killed again and again while it writes the
/// checkpoint: the file under the final name is always a complete checkpoint, old or new.
/// </summary>
public class KillDuringCheckpointSaveTests
{
    private const int Hidden = 1024;
    private const int StepsPerEpoch = 3;

    [Fact]
    public void Finetune_KilledDuringCheckpointSaves_LeavesOnlyCompleteCheckpoints_AndResumeCleansUp()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        var model = BigMlp(dir.File("mlp.onnx"));
        var outDir = dir.File("run");
        var artifacts = Path.Combine(outDir, "artifacts");
        var checkpoint = Path.Combine(artifacts, "checkpoint.onnx");
        var temp = checkpoint + ".tmp";
        string[] Args(int epochs) => ["finetune", "--model", model, "--data", data, "--out", outDir, "--keep-head", "--trainable", "*",
            "--preprocess", "resize=32x32,scale=1/255", "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--batch", "4",
            "--optimizer", "adam", "--lr", "0.001", "--val-split", "0", "--seed", "3"];

        // Calibration: time the first save (temporary file present until its rename) without interrupting it.
        var watch = new Stopwatch();
        var saveTime = TimeSpan.Zero;
        var calibration = ChildProcess.KillWhen(Args(100), () =>
        {
            if (File.Exists(temp))
            {
                watch.Start();
                return false;
            }

            saveTime = watch.Elapsed;
            return watch.IsRunning;
        }, TimeSpan.Zero);
        Assert.True(calibration is not null && saveTime > TimeSpan.Zero, "the calibration run finished before its first checkpoint");
        var lastEpoch = ReadCheckpoint(checkpoint).Epoch;
        Assert.False(File.Exists(temp));

        // Kill at random moments of saves until four kills have interrupted one (at least six kills, at most sixteen).
        var random = new Random(Environment.TickCount);
        var midSave = 0;
        var kills = new List<string>();
        while (kills.Count < 6 || midSave < 4 && kills.Count < 16)
        {
            var report = ChildProcess.KillWhen([.. Args(100), "--resume"], NewTemp(), random.NextDouble() * saveTime);
            Assert.True(report is not null, "a 100-epoch run finished before it was killed");
            var tempLength = File.Exists(temp) ? new FileInfo(temp).Length : -1;

            // Complete: every tensor has its bytes and the step count matches the epoch. The epoch never
            // goes back; it is the old one when the kill came before the rename (+2 when a loaded machine
            // made a later save quicker than the timed one).
            var (epoch, step) = ReadCheckpoint(checkpoint);
            Assert.Equal(epoch * StepsPerEpoch, step);
            Assert.InRange(epoch, lastEpoch, lastEpoch + 2);
            midSave += epoch == lastEpoch && tempLength >= 0 ? 1 : 0;
            kills.Add($"{epoch}:{tempLength}");
            lastEpoch = epoch;
        }

        Assert.True(midSave >= 4, $"only {midSave} of {kills.Count} kills interrupted a save ({saveTime.TotalMilliseconds:F0} ms each); epoch:temp bytes {string.Join(' ', kills)}");

        // A kill right as a save starts leaves a temporary file (when the last random kill has not; retried if the kill came late).
        for (var attempt = 0; attempt < 3 && !File.Exists(temp); attempt++)
        {
            Assert.NotNull(ChildProcess.KillWhen([.. Args(100), "--resume"], NewTemp(), TimeSpan.Zero));
            lastEpoch = ReadCheckpoint(checkpoint).Epoch;
        }

        Assert.True(File.Exists(temp), "no kill left a temporary checkpoint");

        // Resuming a finished run (no epoch left, so no checkpoint save renames the temporary file)
        // exports the checkpoint's weights and removes the leftovers.
        var (code, stdout, stderr) = Cli.Run([.. Args(lastEpoch), "--resume"]);
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal((lastEpoch, lastEpoch * StepsPerEpoch), ReadCheckpoint(checkpoint));
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp", SearchOption.AllDirectories));
        var stored = KillResumeTests.Initializers(checkpoint);
        foreach (var (name, bytes) in KillResumeTests.Initializers(Path.Combine(outDir, "model.onnx")))
        {
            Assert.Equal(stored[name], bytes);
        }

        // The temporary file of a save counts once its write has started in this process: a killed
        // run's leftover (older than the process) is not a new save.
        Func<bool> NewTemp()
        {
            var started = DateTime.UtcNow;
            return () => File.Exists(temp) && File.GetLastWriteTimeUtc(temp) > started;
        }
    }

    private static (int Epoch, int Step) ReadCheckpoint(string path)
    {
        var proto = OnnxModel.Load(path).Proto;
        foreach (var t in proto.Graph.Initializer)
        {
            Assert.Equal(t.Dims.Aggregate(4L, (a, b) => a * b), t.RawData.Length);
        }

        // Parameters and two Adam moments of both Gemms (weights and biases).
        Assert.True(proto.Graph.Initializer.Sum(t => (long)t.RawData.Length) >= 3L * 4 * Hidden * 3 * 32 * 32, "checkpoint too small");
        var meta = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        return (int.Parse(meta["epoch"], CultureInfo.InvariantCulture), int.Parse(meta["onnxcnn.checkpoint.step"], CultureInfo.InvariantCulture));
    }

    /// <summary>Flatten → Gemm(3072→1024) → Relu → Gemm(1024→2): 3.1 M parameters, a 38 MB Adam checkpoint.</summary>
    private static string BigMlp(string path)
    {
        var random = new Random(11);
        float[] Rand(int n, float scale) => Enumerable.Range(0, n).Select(_ => ((random.NextSingle() * 2) - 1) * scale).ToArray();
        const int In = 3 * 32 * 32;
        return new ModelBuilder()
            .Input("image", TensorProto.Types.DataType.Float, "batch", 3, 32, 32)
            .Initializer("fc1.weight", Rand(Hidden * In, 0.02f), Hidden, In)
            .Initializer("fc1.bias", Rand(Hidden, 0.02f), Hidden)
            .Initializer("fc2.weight", Rand(2 * Hidden, 0.02f), 2, Hidden)
            .Initializer("fc2.bias", Rand(2, 0.02f), 2)
            .Node("Flatten", ["image"], ["flat"])
            .Node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], ModelBuilder.Int("transB", 1))
            .Node("Relu", ["h"], ["r"])
            .Node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["logits"], ModelBuilder.Int("transB", 1))
            .Output("logits", TensorProto.Types.DataType.Float, "batch", 2)
            .Save(path);
    }
}

using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.TestUtilities;
using Spectre.Console;

namespace OnnxCnn.Cli.Tests;

/// <summary><c>finetune</c>'s workflow options: --two-stage, --kfold, --log-steps, --device, and the progress output.</summary>
public class FineTuneWorkflowCliTests
{
    private static string[] Args(string data, string outDir, params string[] more) =>
    [
        "finetune", "--model", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--data", data, "--out", outDir,
        "--preprocess", "resize=32x32,scale=1/255", "--batch", "4", "--seed", "1", .. more,
    ];

    [Fact]
    public void TwoStage_UnfreezeFrom_RunsBothStages_HistoryNumberedAcross()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        var outDir = dir.File("run");
        var (code, stdout, stderr) = Cli.Run(Args(data, outDir, "--two-stage", "--unfreeze-from", "/layer1/relu_1/Relu_output_0",
            "--stage1-epochs", "2", "--stage2-epochs", "1", "--lr", "0.02", "--val-split", "0.25"));
        Assert.True(code == 0, stderr + stdout);
        var lines = stdout.Split('\n');
        Assert.Contains("stage 1: the new head, base frozen", lines);
        Assert.Contains("stage 2: the unfrozen layers with the head", lines);
        Assert.Single(lines, l => l.StartsWith("epoch 3/3: ", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(outDir, "stage1", "model.onnx")));
        var history = File.ReadAllLines(Path.Combine(outDir, "history.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(["1", "2", "3"], history.Select(r => r[0]));
        Assert.Equal(["0.02", "0.02", "0.002"], history.Select(r => r[5]));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        var stages = metrics.RootElement.GetProperty("stages");
        Assert.Equal([2, 4], stages.EnumerateArray().Select(s => s.GetProperty("trainableParameters").GetArrayLength()).Select(n => n > 2 ? 4 : n));
        Assert.True(stages[0].GetProperty("validation").GetProperty("loss").GetDouble() > 0);
        Assert.Equal(metrics.RootElement.GetProperty("validation").GetProperty("loss").GetDouble(), stages[1].GetProperty("validation").GetProperty("loss").GetDouble());
    }

    [Fact]
    public void TwoStage_ResumeInStage2_ReproducesTheUninterruptedRun()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 5);
        string[] Run(string outDir, int stage2Epochs, params string[] more) => Args(data, outDir, ["--two-stage", "--trainable", "/layer2/*", "--optimizer", "adam", "--lr", "0.01",
            "--stage1-epochs", "2", "--stage2-epochs", stage2Epochs.ToString(CultureInfo.InvariantCulture), "--log-steps", outDir + ".steps.csv", .. more]);
        Assert.Equal(0, Cli.Run(Run(dir.File("full"), 3)).Code);
        // A run with one stage-2 epoch stands in for one killed after stage 2's first epoch (the rate is constant).
        Assert.Equal(0, Cli.Run(Run(dir.File("part"), 1)).Code);
        var (code, _, stderr) = Cli.Run(Run(dir.File("part"), 3, "--resume"));
        Assert.True(code == 0, stderr);
        string[] Losses(string d) => File.ReadAllLines(Path.Combine(d, "history.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..6])).ToArray();
        Assert.Equal(5, Losses(dir.File("part")).Length);
        Assert.Equal(Losses(dir.File("full")), Losses(dir.File("part")));
        Assert.Equal(File.ReadAllLines(dir.File("full.steps.csv")), File.ReadAllLines(dir.File("part.steps.csv")));
    }

    [Theory]
    [InlineData(new[] { "--two-stage" }, "error: --two-stage needs a stage-2 selection: --unfreeze-from TENSOR or --trainable GLOBS (stage 1 trains the head only).")]
    [InlineData(new[] { "--stage2-lr", "0.001" }, "error: --stage2-lr belongs to --two-stage.")]
    [InlineData(new[] { "--two-stage", "--trainable", "*", "--stage2-epochs", "0" }, "error: --stage1-epochs and --stage2-epochs must be at least 1, got 5 and 0.")]
    [InlineData(new[] { "--kfold", "1" }, "error: --kfold must be at least 2, got 1.")]
    [InlineData(new[] { "--kfold", "9" }, "error: --kfold 9 needs at least 9 images; the data has 4.")]
    [InlineData(new[] { "--kfold", "2", "--val-split", "0.2" }, "error: --kfold holds out each fold in turn; it cannot be combined with --val-split.")]
    [InlineData(new[] { "--device", "gpu" }, "error: --device: device 'gpu' is not one of cpu, cuda, cuda:N, auto.")]
    public void FineTune_BadWorkflowOptions_AreUsageErrors_AndWriteNothing(string[] options, string message)
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var (code, _, stderr) = Cli.Run(Args(data, dir.File("run"), options));
        Assert.Equal(2, code);
        Assert.Equal(message, stderr.Trim());
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void KFold_Three_PrintsMeanAndStd_AndWritesEachFold()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 6);
        var outDir = dir.File("cv");
        var (code, stdout, stderr) = Cli.Run(Args(data, outDir, "--kfold", "3", "--epochs", "2", "--optimizer", "adam", "--trainable", "*", "--lr", "0.01"));
        Assert.True(code == 0, stderr + stdout);
        var lines = stdout.Split('\n');
        Assert.Equal(["fold 1/3", "fold 2/3", "fold 3/3"], lines.Where(l => l.StartsWith("fold ", StringComparison.Ordinal)));
        Assert.Equal(6, lines.Count(l => l.StartsWith("epoch ", StringComparison.Ordinal)));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        var accuracy = summary.RootElement.GetProperty("validation").GetProperty("accuracy");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"accuracy {accuracy.GetProperty("mean").GetDouble():F3} ± {accuracy.GetProperty("std").GetDouble():F3}"), lines);
        Assert.Single(lines, l => l.StartsWith("loss ", StringComparison.Ordinal) && l.Contains(" ± ", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("macro-F1 ", StringComparison.Ordinal) && l.Contains(" ± ", StringComparison.Ordinal));
        Assert.Equal(3, summary.RootElement.GetProperty("folds").GetArrayLength());
        for (var f = 1; f <= 3; f++)
        {
            Assert.True(File.Exists(Path.Combine(outDir, $"fold-{f}", "model.onnx")));
        }
    }

    [Fact]
    public void LogSteps_WritesStepAndLoss_AndEpochLinesShowSpeed()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 4);
        var (code, stdout, stderr) = Cli.Run(Args(data, dir.File("run"), "--epochs", "2", "--val-split", "0", "--log-steps", dir.File("logs/steps.csv")));
        Assert.True(code == 0, stderr + stdout);
        var log = File.ReadAllLines(dir.File("logs/steps.csv"));
        Assert.Equal("step,loss", log[0]);
        Assert.Equal(["1", "2", "3", "4"], log.Skip(1).Select(l => l.Split(',')[0]));
        Assert.All(log.Skip(1), l => Assert.True(float.IsFinite(float.Parse(l.Split(',')[1], CultureInfo.InvariantCulture))));
        var epochs = stdout.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, epochs.Length);
        Assert.All(epochs, l => Assert.Matches(@"^epoch \d/2: loss \d+\.\d{4}, accuracy .*\(\d+\.\d s, \d+ images/s\)$", l));
    }

    [Fact]
    public void LogSteps_ExistingLog_RefusedBeforeAnyWork_UnlessOverwrite()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var log = dir.File("steps.csv");
        File.WriteAllText(log, "an earlier run's log\n");
        var (code, stdout, stderr) = Cli.Run(Args(data, dir.File("run"), "--epochs", "1", "--val-split", "0", "--log-steps", log));
        Assert.Equal(2, code);
        Assert.Equal($"error: --log-steps '{log}' already exists; pass --overwrite to replace it.", stderr.Trim());
        Assert.Equal("an earlier run's log\n", File.ReadAllText(log));
        Assert.False(Directory.Exists(dir.File("run")), stdout);

        (code, stdout, stderr) = Cli.Run(Args(data, dir.File("run"), "--epochs", "1", "--val-split", "0", "--log-steps", log, "--overwrite"));
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal("step,loss", File.ReadLines(log).First());
    }

    [Fact]
    public void LogSteps_KFoldWithAnExistingFoldLog_NamesThatFile()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 3);
        File.WriteAllText(dir.File("steps.fold-2.csv"), "x\n");
        var (code, _, stderr) = Cli.Run(Args(data, dir.File("run"), "--epochs", "1", "--kfold", "3", "--log-steps", dir.File("steps.csv")));
        Assert.Equal(2, code);
        Assert.Equal($"error: --log-steps '{dir.File("steps.fold-2.csv")}' already exists; pass --overwrite to replace it.", stderr.Trim());
        Assert.False(File.Exists(dir.File("steps.fold-1.csv")));
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("auto")]
    public void FineTune_DeviceCpuOrAuto_Trains(string device)
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var (code, stdout, stderr) = Cli.Run(Args(data, dir.File("run"), "--epochs", "1", "--val-split", "0", "--device", device, "--threads", "1"));
        Assert.True(code == 0, stderr + stdout);
        Assert.True(File.Exists(Path.Combine(dir.File("run"), "model.onnx")));
    }

    [Fact]
    public void FineTune_DeviceCudaWithoutCuda_FailsWithTheRuntimesMessage_AndWritesNothing()
    {
        using var dir = new TempDir();
        var data = FineTuneCliTests.MakeDataset(dir, 2);
        var (code, _, stderr) = Cli.Run(Args(data, dir.File("run"), "--epochs", "1", "--device", "cuda"));
        Assert.Equal(1, code);
        Assert.StartsWith("error: CUDA execution provider (device cuda) could not be loaded: ", stderr);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public async Task View_Interactive_ShowsABarPerEpochWithLossAccuracySpeedAndEta()
    {
        var stdout = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes,
        });
        console.Profile.Width = 200;
        var context = new CliContext(console, stdout, new StringWriter());
        await FineTuneView.RunAsync(context, folds: 0, epochs: 2, view =>
        {
            var step = new Training.FineTuneProgress(1, 0, 1, 2, 3, 5, 12, 0.5, 0.75, 123.4, TimeSpan.FromSeconds(75));
            view.Report(step);
            view.Report(step with { Remaining = TimeSpan.Zero, Completed = new Training.EpochResult(1, 0.45, 0.8, 0.4, 0.9, 0.01, 2.5) });
            return Task.CompletedTask;
        }, twoStage: false);
        var text = stdout.ToString();
        Assert.Contains("epoch 1/2: loss 0.4500, accuracy 80.0 %, val loss 0.4000, val accuracy 90.0 % (2.5 s, 123 images/s)", text);
    }

    [Fact]
    public void View_RunningLabel_HasEpochBatchLossAccuracySpeedAndEta() =>
        Assert.Equal("epoch 1/2 · batch 3/5 · loss 0.5000 · accuracy 75.0 % · 123 images/s · ETA 1:15",
            FineTuneView.Running(new Training.FineTuneProgress(1, 0, 1, 2, 3, 5, 12, 0.5, 0.75, 123.4, TimeSpan.FromSeconds(75))));
}

using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>
/// Every typed option of finetune and bench train given a value it cannot parse: exit 2, one line on stderr that
/// names the option, nothing written — caught while the command line is parsed, before any data or model is read.
/// </summary>
public class FineTuneMalformedValueTests
{
    private static readonly string TinyResNet = RepoPaths.Fixture("tiny_resnet", "model.onnx");

    [Theory]
    [InlineData("--hidden", "25x", "error: --hidden '25x' is not a list of positive widths (e.g. 256,128).")]
    [InlineData("--hidden", "256,0", "error: --hidden '256,0' is not a list of positive widths (e.g. 256,128).")]
    [InlineData("--hidden", "256,,128", "error: --hidden '256,,128' is not a list of positive widths (e.g. 256,128).")]
    [InlineData("--optimizer", "lbfgs", "error: --optimizer 'lbfgs' is not one of sgd, rmsprop, adam, adamw.")]
    [InlineData("--loss", "hinge", "error: --loss 'hinge' is not softmax or bce.")]
    [InlineData("--schedule", "warm", "error: --schedule 'warm' is not one of constant, step, cosine, onecycle.")]
    [InlineData("--class-weights", "some", "error: --class-weights 'some' is not auto or none.")]
    [InlineData("--mode", "fast", "error: --mode 'fast' is not one of auto, feature-cache, end-to-end.")]
    [InlineData("--batchnorm", "sometimes", "error: --batchnorm 'sometimes' is not frozen or train.")]
    [InlineData("--input-size", "32", "error: --input-size '32' is not HxW (e.g. 224x224).")]
    [InlineData("--input-size", "32x", "error: --input-size '32x' is not HxW (e.g. 224x224).")]
    [InlineData("--lr-group", "head.*", "error: --lr-group 'head.*' is not GLOBS=MULT (e.g. '/layer4/*=0.1').")]
    [InlineData("--device", "tpu", "error: --device: device 'tpu' is not one of cpu, cuda, cuda:N, auto.")]
    [InlineData("--threads", "-1", "error: --threads must be 0 or more, got -1.")]
    [InlineData("--cache-memory", "-1", "error: --cache-memory must be 0 or more MB, got -1.")]
    [InlineData("--preprocess", "resize=big", "error: --preprocess: ")]
    [InlineData("--augment", "wobble", "error: --augment: ")]
    [InlineData("--epochs", "five", "error: Cannot parse argument 'five' for option '--epochs'")]
    [InlineData("--batch", "1.5", "error: Cannot parse argument '1.5' for option '--batch'")]
    [InlineData("--lr", "fast", "error: Cannot parse argument 'fast' for option '--lr'")]
    [InlineData("--dropout", "half", "error: Cannot parse argument 'half' for option '--dropout'")]
    [InlineData("--val-split", "20%", "error: Cannot parse argument '20%' for option '--val-split'")]
    [InlineData("--kfold", "x", "error: Cannot parse argument 'x' for option '--kfold'")]
    [InlineData("--seed", "s", "error: Cannot parse argument 's' for option '--seed'")]
    [InlineData("--momentum", "m", "error: Cannot parse argument 'm' for option '--momentum'")]
    public void FineTune_MalformedValue_OneLineNamingTheOption_Exit2_NothingWritten(string option, string value, string expected)
    {
        using var dir = new TempDir();
        var outDir = dir.File("out");

        // The data folder does not exist: a parse error must come before anything reads it.
        var (code, stdout, stderr) = Cli.Run("finetune", "--model", TinyResNet, "--data", dir.File("no-data"), "--out", outDir, option, value);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith(expected, line);
        Assert.Contains(option, line);
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("--device", "gpu", "error: --device: device 'gpu' is not one of cpu, cuda, cuda:N, auto.")]
    [InlineData("--threads", "-2", "error: --threads must be 0 or more, got -2.")]
    [InlineData("--batch", "x", "error: Cannot parse argument 'x' for option '--batch'")]
    [InlineData("--steps", "many", "error: Cannot parse argument 'many' for option '--steps'")]
    [InlineData("--input-size", "64", "error: --input-size '64' is not HxW (e.g. 224x224).")]
    public void BenchTrain_MalformedValue_OneLineNamingTheOption_Exit2(string option, string value, string expected)
    {
        var (code, _, stderr) = Cli.Run("bench", "train", TinyResNet, "--classes", "2", "--trainable", "*", option, value);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith(expected, line);
        Assert.Contains(option, line);
    }
}

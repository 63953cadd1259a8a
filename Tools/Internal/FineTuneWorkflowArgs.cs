using System.CommandLine;
using System.Globalization;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The workflow options of <c>finetune</c> — <c>--two-stage</c> with its stage options, <c>--kfold</c>,
/// <c>--log-steps</c>, <c>--device</c>/<c>--threads</c> — and the run with its progress view.
/// </summary>
internal sealed class FineTuneWorkflowArgs
{
    private readonly SessionArgs session = new();
    private readonly Option<bool> twoStage = new("--two-stage") { Description = "stage 1 trains the new head with the base frozen; stage 2 trains --unfreeze-from/--trainable with the head" };
    private readonly Option<int?> stage1Epochs = new("--stage1-epochs") { Description = "epochs of stage 1 (default --epochs)" };
    private readonly Option<int?> stage2Epochs = new("--stage2-epochs") { Description = "epochs of stage 2 (default --epochs)" };
    private readonly Option<float?> stage2Lr = new("--stage2-lr") { Description = "learning rate of stage 2 (default --lr / 10)" };
    private readonly Option<int?> kfold = new("--kfold") { Description = "stratified K-fold cross-validation: one training per fold into fold-i/, mean ± std in metrics.json" };
    private readonly Option<string?> logSteps = new("--log-steps") { Description = "CSV file that gets step,loss for every optimiser step" };

    public void AddTo(Command command)
    {
        command.Add(twoStage);
        command.Add(stage1Epochs);
        command.Add(stage2Epochs);
        command.Add(stage2Lr);
        command.Add(kfold);
        command.Add(logSteps);
        session.AddTo(command);
    }

    /// <summary>The folds of <c>--kfold</c>, or null.</summary>
    public int? Folds(ParseResult r) => r.GetValue(kfold);

    /// <summary>
    /// Checks the workflow options' combinations and folds them into <paramref name="options"/>; the two-stage
    /// recipe's and the fold count's own rules are the library's (<see cref="FineTuner.Validate"/>).
    /// </summary>
    public FineTuneOptions Apply(ParseResult r, FineTuneOptions options, bool explicitValidation)
    {
        var two = r.GetValue(twoStage);
        foreach (var stageOption in new Option[] { stage1Epochs, stage2Epochs, stage2Lr })
        {
            if (!two && r.GetResult(stageOption) is not null)
            {
                throw new UsageException($"{stageOption.Name} belongs to --two-stage.");
            }
        }

        // The fold count's own rules are the library's (FineTunePlan.Create); whether --val-split was given is the command line's.
        if (r.GetValue(kfold) is not null && explicitValidation)
        {
            throw new UsageException("--kfold holds out each fold in turn; it cannot be combined with --val-split.");
        }

        options = options with { StepLog = r.GetValue(logSteps) };
        if (!two)
        {
            return options;
        }

        var spec = options.Spec;
        return options with
        {
            Epochs = r.GetValue(stage1Epochs) ?? options.Epochs,
            Spec = spec with { Trainable = [], UnfreezeFrom = null },
            SecondStage = new TwoStageOptions { Trainable = spec.Trainable, UnfreezeFrom = spec.UnfreezeFrom, Epochs = r.GetValue(stage2Epochs) ?? options.Epochs, LearningRate = r.GetValue(stage2Lr) },
        };
    }

    /// <summary>Runs the fine-tune (or the K folds) on the sessions <c>--device</c> and <c>--threads</c> ask for, with a progress view, and prints where the results went.</summary>
    public async Task RunAsync(CliContext context, FineTunePlan plan, ParseResult r, string output, CancellationToken cancellationToken)
    {
        var options = plan.Options;
        var folds = plan.KFold ?? 0;
        var epochs = options.Epochs + (options.SecondStage?.Epochs ?? 0);
        CrossValidationResult? crossValidation = null;
        await FineTuneView.RunAsync(context, folds, epochs, async view =>
        {
            var execution = new FineTuneExecution { Session = session.Read(r), Progress = view, Warning = w => context.Error.WriteLine("warning: " + w) };
            if (folds > 0)
            {
                crossValidation = await plan.CrossValidateAsync(output, execution, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await plan.RunAsync(output, execution, cancellationToken).ConfigureAwait(false);
            }
        }, options.SecondStage is not null).ConfigureAwait(false);
        if (crossValidation is { } cv)
        {
            context.Out.WriteLine($"{folds}-fold cross-validation (each fold's model on its held-out fold, mean ± std):");
            foreach (var f in cv.Folds)
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  fold {f.Fold}: accuracy {f.ValidationAccuracy:F3}, loss {f.ValidationLoss:F3}, macro-F1 {f.MacroF1:F3}"));
            }

            context.Out.WriteLine($"accuracy {cv.Accuracy}");
            context.Out.WriteLine($"loss {cv.Loss}");
            context.Out.WriteLine($"macro-F1 {cv.MacroF1}");
            context.Out.WriteLine($"wrote {Path.Combine(output, "fold-1")} … fold-{folds}/ (a model, history and metrics each) and {Path.Combine(output, "metrics.json")}");
        }
        else
        {
            context.Out.WriteLine($"wrote {Path.Combine(output, "model.onnx")}, labels.txt, history.csv, metrics.json, curves.png{(options.ValidationSplit > 0 || plan.Data.Validation is not null ? ", confusion.png" : "")}, artifacts/" + (options.SecondStage is null ? "" : $", {FineTuner.Stage1Folder}/"));
            if (ThroughputLine(Path.Combine(output, "metrics.json"), options.SecondStage is null ? "training" : "stage 2 training") is { } line)
            {
                context.Out.WriteLine(line);
            }
        }
    }

    /// <summary>The run's images/s and where the rest of its time went, from the <c>throughput</c> block of a stage's metrics.json.</summary>
    internal static string? ThroughputLine(string metricsPath, string what)
    {
        if (!File.Exists(metricsPath) || System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metricsPath))?["throughput"] is not System.Text.Json.Nodes.JsonObject t
            || t["imagesPerSecond"] is null)
        {
            return null;
        }

        double S(string key) => t[key]!.GetValue<double>();
        var c = CultureInfo.InvariantCulture;
        var steady = t["steadyImagesPerSecond"] is null ? "" : string.Create(c, $"; first step {S("firstStepSeconds"):F1} s, {S("steadyImagesPerSecond"):F1} images/s after it");
        return string.Create(c, $"{what}: {t["trainImages"]!.GetValue<long>()} images in {S("trainSeconds"):F1} s, {S("imagesPerSecond"):F1} images/s (of it {S("inputWaitSeconds"):F1} s waiting for batches")
            + steady + string.Create(c, $"); setup {S("setupSeconds"):F1} s, validation {S("validationSeconds"):F1} s, checkpoints and charts {S("bookkeepingSeconds"):F1} s, final evaluation and export {S("finishSeconds"):F1} s");
    }
}

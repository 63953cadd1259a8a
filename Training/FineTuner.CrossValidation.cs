using System.Text.Json.Nodes;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>K-fold cross-validation as a composition of one run per fold.</summary>
public static partial class FineTuner
{
    /// <summary>
    /// Stratified K-fold cross-validation: one complete fine-tune per fold (each fold held out once,
    /// <see cref="FineTuneOptions.ValidationSplit"/> ignored) into <c>fold-i/</c>, then metrics.json in
    /// <paramref name="outputDirectory"/> with every fold and the mean ± std of validation loss,
    /// accuracy and macro-F1. With <see cref="FineTuneOptions.Resume"/>, finished folds (their
    /// metrics.json written) are read back, an interrupted fold continues from its checkpoint and
    /// the rest run. A step log goes to one file per fold (<c>NAME.fold-i.csv</c>).
    /// </summary>
    /// <param name="model">The model to fine-tune.</param>
    /// <param name="data">The training data (an <see cref="ImageDataset"/> converts); a separate validation set is refused.</param>
    /// <param name="options">The settings of every fold's run.</param>
    /// <param name="k">The number of folds, 2 to the number of training images.</param>
    /// <param name="outputDirectory">Where the folds' folders and the summary go.</param>
    /// <param name="execution">The sessions' options, the progress channel (every fold's steps and epochs) and the warning sink, or null for none.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>Every fold's result and their mean ± std.</returns>
    /// <exception cref="ArgumentException">A setting that cannot work, named in the message.</exception>
    public static Task<CrossValidationResult> CrossValidateAsync(OnnxModel model, FineTuneData data, FineTuneOptions options, int k, string outputDirectory,
        FineTuneExecution? execution = null, CancellationToken cancellationToken = default) =>
        FineTunePlan.Create(model, data, options, k).CrossValidateAsync(outputDirectory, execution, cancellationToken);

    /// <summary>
    /// The files a run with <see cref="FineTuneOptions.StepLog"/> = <paramref name="stepLog"/> writes its
    /// step log to: the path itself, or with <paramref name="kFold"/> one file per fold
    /// (<c>steps.csv</c> → <c>steps.fold-1.csv</c>, …).
    /// </summary>
    public static IReadOnlyList<string> StepLogPaths(string stepLog, int? kFold) =>
        kFold is { } k ? [.. Enumerable.Range(1, k).Select(f => FoldStepLog(stepLog, f))] : [stepLog];

    private static string FoldStepLog(string stepLog, int fold) =>
        Path.Combine(Path.GetDirectoryName(stepLog) ?? "", $"{Path.GetFileNameWithoutExtension(stepLog)}.fold-{fold}{Path.GetExtension(stepLog)}");

    internal static async Task<CrossValidationResult> CrossValidateValidatedAsync(FineTunePlan plan, int k, string outputDirectory,
        FineTuneExecution? execution, CancellationToken cancellationToken)
    {
        var (model, data, options) = (plan.Model, plan.Data, plan.Options);
        var folds = Splits.KFold(data.Train.Labels, k, options.Seed);
        var results = new List<FoldResult>();
        for (var f = 0; f < k; f++)
        {
            var dir = Path.Combine(outputDirectory, $"fold-{f + 1}");
            var metricsPath = Path.Combine(dir, "metrics.json");
            if (options.Resume && File.Exists(metricsPath))
            {
                results.Add(ReadFold(f + 1, metricsPath));
                continue;
            }

            // A metrics.json of an older run must not mark this fold finished if it is interrupted.
            AtomicFile.Delete(metricsPath);
            var fold = Context(options, dir, execution) with
            {
                Split = (folds.Where((_, i) => i != f).SelectMany(x => x).Order().ToArray(), folds[f]),
                Fold = f + 1,
                Resume = options.Resume && Directory.Exists(dir) && Directory.EnumerateFiles(dir, "checkpoint.onnx", SearchOption.AllDirectories).Any(),
                StepLog = options.StepLog is null ? null : FoldStepLog(options.StepLog, f + 1),
            };
            var outcome = await RunValidatedAsync(model, data, options, fold, cancellationToken).ConfigureAwait(false);
            var metrics = outcome.Validation?.Metrics ?? throw new InvalidOperationException($"fold {f + 1} has no validation samples.");
            results.Add(new FoldResult(f + 1, outcome.History.Count, outcome.ValidationLoss, metrics.Accuracy, metrics.MacroF1));
        }

        var result = new CrossValidationResult(results);
        Directory.CreateDirectory(outputDirectory);
        RunReporter.WriteJson(Path.Combine(outputDirectory, "metrics.json"), Summary(k, result));
        return result;
    }

    private static JsonObject Summary(int k, CrossValidationResult result)
    {
        JsonObject Stat(MeanStd s) => new() { ["mean"] = s.Mean, ["std"] = s.Std };
        return new JsonObject
        {
            ["kfold"] = k,
            ["folds"] = new JsonArray([.. result.Folds.Select(r => (JsonNode)new JsonObject
            {
                ["fold"] = r.Fold, ["folder"] = $"fold-{r.Fold}", ["epochs"] = r.Epochs,
                ["validation"] = new JsonObject { ["loss"] = r.ValidationLoss, ["accuracy"] = r.ValidationAccuracy, ["macroF1"] = r.MacroF1 },
            })]),
            ["validation"] = new JsonObject { ["loss"] = Stat(result.Loss), ["accuracy"] = Stat(result.Accuracy), ["macroF1"] = Stat(result.MacroF1) },
        };
    }

    private static FoldResult ReadFold(int fold, string metricsPath)
    {
        var doc = RunReporter.ReadJson(metricsPath);
        var validation = doc["validation"] ?? throw new InvalidDataException($"'{metricsPath}' has no validation block.");
        double Get(string name) => validation[name]?.GetValue<double>() ?? double.NaN;
        return new FoldResult(fold, doc["epochs"]?.GetValue<int>() ?? 0, Get("loss"), Get("accuracy"), Get("macroF1"));
    }
}

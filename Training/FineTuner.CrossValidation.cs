using System.Globalization;
using System.Text.Json.Nodes;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training;

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
    public static async Task<CrossValidationResult> CrossValidateAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, int k, string outputDirectory,
        Action<EpochResult>? progress = null, Action<string>? warning = null, CancellationToken cancellationToken = default)
    {
        if (options.ValidationData is not null)
        {
            throw new ArgumentException("a separate validation set cannot be combined with K-fold cross-validation (each fold is held out in turn).");
        }

        Validate(model, data, options);
        var folds = Splits.KFold(data.Labels, k, options.Seed);
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
            DeleteFile(metricsPath);
            var validation = folds[f];
            var train = folds.Where((_, i) => i != f).SelectMany(x => x).Order().ToArray();
            var fold = options with
            {
                Split = (train, validation),
                Fold = f + 1,
                Resume = options.Resume && Directory.Exists(dir) && Directory.EnumerateFiles(dir, "checkpoint.onnx", SearchOption.AllDirectories).Any(),
                StepLog = options.StepLog is null ? null
                    : Path.Combine(Path.GetDirectoryName(options.StepLog) ?? "", $"{Path.GetFileNameWithoutExtension(options.StepLog)}.fold-{f + 1}{Path.GetExtension(options.StepLog)}"),
            };
            var outcome = await RunOutcomeAsync(model, data, fold, dir, progress, warning, cancellationToken).ConfigureAwait(false);
            var metrics = outcome.Validation ?? throw new InvalidOperationException($"fold {f + 1} has no validation samples.");
            results.Add(new FoldResult(f + 1, outcome.History.Count, outcome.ValidationLoss, metrics.Accuracy, metrics.MacroF1));
        }

        var result = new CrossValidationResult(results);
        JsonObject Stat(MeanStd s) => new() { ["mean"] = s.Mean, ["std"] = s.Std };
        var doc = new JsonObject
        {
            ["kfold"] = k,
            ["folds"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
            {
                ["fold"] = r.Fold, ["folder"] = $"fold-{r.Fold}", ["epochs"] = r.Epochs,
                ["validation"] = new JsonObject { ["loss"] = r.ValidationLoss, ["accuracy"] = r.ValidationAccuracy, ["macroF1"] = r.MacroF1 },
            })]),
            ["validation"] = new JsonObject { ["loss"] = Stat(result.Loss), ["accuracy"] = Stat(result.Accuracy), ["macroF1"] = Stat(result.MacroF1) },
        };
        Directory.CreateDirectory(outputDirectory);
        Atomic(Path.Combine(outputDirectory, "metrics.json"), doc.ToJsonString(Indented));
        return result;
    }

    private static FoldResult ReadFold(int fold, string metricsPath)
    {
        var doc = ReadJson(metricsPath);
        var validation = doc["validation"] ?? throw new InvalidDataException($"'{metricsPath}' has no validation block.");
        double Get(string name) => validation[name]?.GetValue<double>() ?? double.NaN;
        return new FoldResult(fold, doc["epochs"]?.GetValue<int>() ?? 0, Get("loss"), Get("accuracy"), Get("macroF1"));
    }
}

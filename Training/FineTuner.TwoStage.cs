using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>The workflow around the training loop: one or two stages, progress reports, metadata and metrics.json amendments.</summary>
public static partial class FineTuner
{
    /// <summary>The folder under the output folder that holds stage 1 of a two-stage run.</summary>
    public const string Stage1Folder = "stage1";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static async Task<StageOutcome> RunOutcomeAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, string outputDirectory,
        Action<EpochResult>? progress, Action<string>? warning, CancellationToken cancellationToken)
    {
        // Before a two-stage run clears an older run's files.
        Validate(model, data, options);
        if (options.SecondStage is not null)
        {
            return await RunTwoStageAsync(model, data, options, outputDirectory, progress, warning, cancellationToken).ConfigureAwait(false);
        }

        var outcome = await RunStageAsync(model, data, options, outputDirectory, progress, warning, cancellationToken).ConfigureAwait(false);
        AmendMetrics(outputDirectory, outcome.ValidationLoss, stages: null);
        return outcome;
    }

    /// <summary>
    /// Keras's recipe in one run: stage 1 trains the head with the base frozen (into <c>stage1/</c>),
    /// stage 2 loads stage 1's model — its head weights exactly — and trains the stage-2 selection
    /// with the head, with a fresh optimiser, at its own rate (into the output folder). history.csv
    /// numbers epochs across both stages; metrics.json gets a <c>stages</c> array.
    /// On resume, an unfinished stage 1 continues from its checkpoint; after a finished stage 1
    /// (stage1/metrics.json written), stage 2 continues from its checkpoint or starts again.
    /// </summary>
    private static async Task<StageOutcome> RunTwoStageAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, string outputDirectory,
        Action<EpochResult>? progress, Action<string>? warning, CancellationToken cancellationToken)
    {
        var second = options.SecondStage!;
        if (second.Trainable.Count == 0 && second.UnfreezeFrom is null)
        {
            throw new ArgumentException("the two-stage recipe needs a stage-2 selection (trainable globs or a tensor to unfreeze from); stage 1 always trains the head only.");
        }

        if (second.Epochs < 1 || options.Epochs < 1)
        {
            throw new ArgumentException($"both stages need at least one epoch (stage 1: {options.Epochs}, stage 2: {second.Epochs}).");
        }

        var stage1Dir = Path.Combine(outputDirectory, Stage1Folder);
        var stage1Metrics = Path.Combine(stage1Dir, "metrics.json");
        var total = options.Epochs + second.Epochs;
        var stage1Done = options.Resume && File.Exists(stage1Metrics);
        if (!stage1Done)
        {
            // Anything stage 2 left here belongs to an older run; a resume must not pick it up.
            DeleteFile(stage1Metrics);
            DeleteFile(Path.Combine(outputDirectory, "artifacts", "checkpoint.onnx"));
            DeleteFile(Path.Combine(outputDirectory, "artifacts", "best_checkpoint.onnx"));
            var first = options with
            {
                Spec = options.Spec with { Trainable = [], UnfreezeFrom = null },
                SecondStage = null,
                ProgressEpochs = total,
                Stage = 1,
            };
            var outcome = await RunStageAsync(model, data, first, stage1Dir, progress, warning, cancellationToken).ConfigureAwait(false);
            AmendMetrics(stage1Dir, outcome.ValidationLoss, stages: null);
        }

        var stage1History = ReadHistory(Path.Combine(stage1Dir, "history.csv")).ToList();
        var stage1Steps = CheckpointSteps(Path.Combine(stage1Dir, "artifacts", "checkpoint.onnx"));
        var stage1 = ReadJson(stage1Metrics);
        var head = stage1["trainableParameters"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        var trained = OnnxModel.Load(Path.Combine(stage1Dir, "model.onnx"));
        var secondOptions = options with
        {
            NewHeadClasses = null,
            Hidden = [],
            Spec = options.Spec with
            {
                // The head trained in stage 1 keeps training; with a tensor to unfreeze from it is downstream anyway.
                Trainable = second.Trainable.Count > 0 ? [.. second.Trainable, .. head.Except(second.Trainable, StringComparer.Ordinal)] : [],
                UnfreezeFrom = second.Trainable.Count > 0 ? null : second.UnfreezeFrom,
            },
            Epochs = second.Epochs,
            LearningRate = second.LearningRate ?? options.LearningRate / 10,
            SecondStage = null,
            Resume = stage1Done && File.Exists(Path.Combine(outputDirectory, "artifacts", "checkpoint.onnx")),
            PriorHistory = stage1History,
            PriorSteps = stage1Steps,
            ProgressEpochs = total,
            Stage = 2,
        };
        var final = await RunStageAsync(trained, data, secondOptions, outputDirectory, progress, warning, cancellationToken).ConfigureAwait(false);
        var stage2 = ReadJson(Path.Combine(outputDirectory, "metrics.json"));
        var stages = new JsonArray(
            StageSummary(1, stage1, Stage1Folder, 1, stage1History.Count, options.LearningRate, AmendValidation(stage1["validation"], double.NaN)),
            StageSummary(2, stage2, ".", stage1History.Count + 1, final.History.Count, secondOptions.LearningRate, AmendValidation(stage2["validation"], final.ValidationLoss)));
        AmendMetrics(outputDirectory, final.ValidationLoss, stages);
        return final;
    }

    private static JsonObject StageSummary(int stage, JsonObject metrics, string folder, int firstEpoch, int lastEpoch, float learningRate, JsonNode? validation) => new()
    {
        ["stage"] = stage,
        ["folder"] = folder,
        ["firstEpoch"] = firstEpoch,
        ["lastEpoch"] = lastEpoch,
        ["learningRate"] = learningRate,
        ["mode"] = metrics["mode"]?.DeepClone(),
        ["trainableParameters"] = metrics["trainableParameters"]?.DeepClone(),
        ["validation"] = validation,
    };

    /// <summary>Adds the exported model's validation loss to metrics.json (and a two-stage run's <c>stages</c>), atomically.</summary>
    private static void AmendMetrics(string directory, double validationLoss, JsonArray? stages)
    {
        var path = Path.Combine(directory, "metrics.json");
        var doc = ReadJson(path);
        AmendValidation(doc["validation"], validationLoss);
        if (stages is not null)
        {
            doc["stages"] = stages;
        }

        Atomic(path, doc.ToJsonString(Indented));
    }

    /// <summary>Sets <c>loss</c> in a metrics.json validation block (NaN keeps what is there); returns a copy to embed elsewhere.</summary>
    private static JsonNode? AmendValidation(JsonNode? validation, double loss)
    {
        if (validation is JsonObject block && !double.IsNaN(loss))
        {
            block["loss"] = loss;
        }

        return validation?.DeepClone();
    }

    private static void DeleteFile(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private static JsonObject ReadJson(string path) =>
        JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"'{path}' is not a JSON object.");

    private static int CheckpointSteps(string path) =>
        OnnxModel.Load(path).Proto.MetadataProps.FirstOrDefault(p => p.Key == TrainingSession.StepMetadataKey) is { } entry
            ? int.Parse(entry.Value, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"checkpoint '{path}' has no step count.");

    private static void Report(FineTuneOptions options, int epoch, int offset, int batch, int batches, double lossSum, long correct, long seen, TimeSpan elapsed)
    {
        if (options.Progress is null || seen == 0)
        {
            return;
        }

        batches = Math.Max(batch, batches);
        options.Progress.Report(new FineTuneProgress(options.Stage, options.Fold, epoch, options.ProgressEpochs ?? offset + options.Epochs, batch, batches, seen,
            lossSum / seen, (double)correct / seen, seen / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed / batch * (batches - batch)));
    }

    /// <summary>Sets a metadata entry, replacing an earlier one (a model fine-tuned again, or stage 2 of a two-stage run).</summary>
    private static void SetMetadata(OnnxModel model, string key, string value)
    {
        var props = model.Proto.MetadataProps;
        for (var i = props.Count - 1; i >= 0; i--)
        {
            if (props[i].Key == key)
            {
                props.RemoveAt(i);
            }
        }

        props.Add(new StringStringEntryProto { Key = key, Value = value });
    }
}

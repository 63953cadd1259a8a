using System.Text.Json.Nodes;

namespace OnnxCnn.Training.Internal;

/// <summary>The metrics.json of a stage: how it trained, what it trained, and the exported model's validation.</summary>
internal static class MetricsDocument
{
    public static JsonObject Build(TrainingMode mode, FeatureCache? cache, TrainingSpec spec, TrainingGraph graph, IReadOnlyList<string> classes,
        int epochs, IReadOnlyList<string> skipped, Validation? validation)
    {
        var doc = new JsonObject
        {
            ["mode"] = mode == TrainingMode.FeatureCache ? "feature-cache" : "end-to-end",
            ["featureCache"] = cache is null ? null : new JsonObject
            {
                ["samples"] = cache.Count,
                ["inMemory"] = cache.Count - cache.SpilledCount,
                ["spilled"] = cache.SpilledCount,
                ["bytesPerSample"] = (long)cache.SampleSize * sizeof(float),
            },
            ["loss"] = spec.Loss == LossKind.SigmoidBinaryCrossEntropy ? "bce" : "softmax",
            ["optimizer"] = spec.Optimizer.ToString().ToLowerInvariant(),
            ["batchNorm"] = spec.BatchNorm == BatchNormMode.Train ? "train" : "frozen",
            ["classes"] = Array(classes),
            ["trainableParameters"] = Array(graph.Parameters),
            ["boundary"] = graph.Input,
            ["epochs"] = epochs,
            ["skipped"] = Array(skipped),
            ["validation"] = validation is null ? null : ValidationBlock(validation),
        };
        return doc;
    }

    /// <summary>The <c>stages</c> entry of one stage of a two-stage run.</summary>
    public static JsonObject StageSummary(int stage, JsonObject metrics, string folder, int firstEpoch, int lastEpoch, float learningRate) => new()
    {
        ["stage"] = stage,
        ["folder"] = folder,
        ["firstEpoch"] = firstEpoch,
        ["lastEpoch"] = lastEpoch,
        ["learningRate"] = learningRate,
        ["mode"] = metrics["mode"]?.DeepClone(),
        ["trainableParameters"] = metrics["trainableParameters"]?.DeepClone(),
        ["validation"] = metrics["validation"]?.DeepClone(),
    };

    private static JsonObject ValidationBlock(Validation validation)
    {
        var m = validation.Metrics;
        var block = new JsonObject
        {
            ["accuracy"] = m.Accuracy,
            ["topK"] = m.TopKAccuracy,
            ["k"] = m.K,
            ["macroPrecision"] = m.MacroPrecision,
            ["macroRecall"] = m.MacroRecall,
            ["macroF1"] = m.MacroF1,
            ["perClass"] = new JsonArray([.. m.PerClass.Select(c => (JsonNode)new JsonObject
            {
                ["label"] = c.Label, ["precision"] = c.Precision, ["recall"] = c.Recall, ["f1"] = c.F1, ["support"] = c.Support,
            })]),
            ["confusion"] = new JsonArray([.. Enumerable.Range(0, m.Labels.Count).Select(r => (JsonNode)new JsonArray([.. Enumerable.Range(0, m.Labels.Count).Select(c => (JsonNode)m.Confusion[r, c])]))]),
        };
        if (!double.IsNaN(validation.Loss))
        {
            block["loss"] = validation.Loss;
        }

        return block;
    }

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);
}

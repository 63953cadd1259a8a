using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Validation on the compiled eval graph under the current parameters (<see cref="TrainingSession.EvaluateOnFeatures"/>):
/// no export and no new session per epoch. With a <paramref name="cache"/> (feature-cache mode: frozen prefix, no
/// augmentation) the validation images pass through the frozen prefix once, in the first evaluation, and later
/// evaluations read their features back. The loss is the plain cross-entropy of the logits (binary: of the one
/// logit), without class weights or label smoothing, as the exported model's would be.
/// </summary>
internal sealed class Evaluator(TrainingSession session, BatchPipeline pipeline, IReadOnlyList<int> indices, ImageDataset data, int batchSize, bool nhwc, FeatureCache? cache)
{
    /// <summary>Whether there is anything to validate on.</summary>
    public bool HasData => indices.Count > 0;

    /// <summary>The validation set's loss, accuracy and metrics, or null without validation samples.</summary>
    public async Task<Validation?> EvaluateAsync(CancellationToken cancellationToken)
    {
        if (!HasData)
        {
            return null;
        }

        var scores = new ValidationScores(data.Classes);
        if (cache is not null && indices.All(cache.Contains))
        {
            for (var start = 0; start < indices.Count; start += batchSize)
            {
                var chunk = indices.Skip(start).Take(batchSize).ToArray();
                var labels = chunk.Select(i => data.Items[i].Label).ToArray();
                using var features = cache.Gather(chunk);
                using var y = EpochRunner.LabelTensor(labels);
                scores.Add(session.EvaluateOnFeatures(features, y, cancellationToken), labels);
            }

            return scores.Result();
        }

        await foreach (var batch in pipeline.Epoch(indices, 0, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            using (var x = EpochRunner.InputTensor(batch, pipeline.OutputSize, nhwc))
            using (var y = EpochRunner.LabelTensor(batch))
            using (var features = session.Features(x, cancellationToken))
            {
                cache?.AddBatch(batch.Indices.AsSpan(0, batch.Count), features);
                scores.Add(session.EvaluateOnFeatures(features, y, cancellationToken), batch.Labels.AsSpan(0, batch.Count));
            }
        }

        return scores.Result();
    }

    /// <summary>Loss and scores accumulated over the validation batches.</summary>
    private sealed class ValidationScores(IReadOnlyList<string> classes)
    {
        private readonly List<float> scores = [];
        private readonly List<int> labels = [];
        private double loss;

        public void Add(EvalResult result, ReadOnlySpan<int> batchLabels)
        {
            var logits = result.Logits.Span;
            var columns = logits.Length / batchLabels.Length;
            if (columns == 1 && classes.Count == 2)
            {
                // One logit per sample: P(class 1) = σ(logit); class 1 when P > 0.5.
                for (var i = 0; i < batchLabels.Length; i++)
                {
                    var p = 1 / (1 + Math.Exp(-logits[i]));
                    loss += Softplus(batchLabels[i] == 1 ? -logits[i] : logits[i]);
                    scores.Add((float)(1 - p));
                    scores.Add((float)p);
                    labels.Add(batchLabels[i]);
                }

                return;
            }

            if (columns != classes.Count)
            {
                throw new InvalidDataException($"the model gives {columns} scores per image for {classes.Count} classes ({string.Join(", ", classes)}).");
            }

            for (var i = 0; i < batchLabels.Length; i++)
            {
                var row = logits.Slice(i * columns, columns);
                loss += LogSumExp(row) - row[batchLabels[i]];
                scores.AddRange(row.ToArray());
                labels.Add(batchLabels[i]);
            }
        }

        public Validation Result()
        {
            var metrics = ClassificationMetrics.FromScores(scores.ToArray(), labels, classes, k: Math.Min(5, classes.Count));
            return new Validation(labels.Count == 0 ? double.NaN : loss / labels.Count, metrics);
        }
    }

    /// <summary>log(1 + eˣ) without overflow: −log σ(−x), the binary cross-entropy of a logit.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    public static double LogSumExp(ReadOnlySpan<float> row)
    {
        var max = double.MinValue;
        foreach (var v in row)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (var v in row)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}

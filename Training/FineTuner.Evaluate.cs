using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>Evaluation of an exported model (the <c>eval</c> command and the demo).</summary>
public static partial class FineTuner
{
    /// <summary>Loss, accuracy and full metrics of a model on dataset samples.</summary>
    public static async Task<(double Loss, double Accuracy, ClassificationMetrics? Metrics)> EvaluateAsync(OnnxModel model, BatchPipeline pipeline, IReadOnlyList<int> indices,
        IReadOnlyList<string> classes, PreprocessSpec preprocess, CancellationToken cancellationToken = default, SessionOptions? sessionOptions = null)
    {
        using var inference = InferenceSession.FromBytes(model.ToBytes(), sessionOptions);
        var probabilities = model.Graph.Node.LastOrDefault(n => n.Output.Contains(model.Graph.Output[0].Name))?.OpType == "Softmax";
        var scores = new List<float>();
        var labels = new List<int>();
        double loss = 0;
        var (height, width) = pipeline.OutputSize;
        await foreach (var batch in pipeline.Epoch(indices, 0, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                long[] shape = preprocess.Nhwc ? [batch.Count, height, width, 3] : [batch.Count, 3, height, width];
                using var x = Tensor<float>.Wrap(batch.Buffer, shape);
                using var result = inference.Run(x, cancellationToken);
                var output = result[0].Value.As<float>().Span;
                var columns = output.Length / batch.Count;
                if (columns == 1 && classes.Count == 2)
                {
                    // A binary model: one logit, or P(class 1) when it ends in Sigmoid; class 1 when P > 0.5.
                    var sigmoid = model.Graph.Node.LastOrDefault(n => n.Output.Contains(model.Graph.Output[0].Name))?.OpType == "Sigmoid";
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var label = batch.Labels[i];
                        var p = sigmoid ? output[i] : 1 / (1 + Math.Exp(-output[i]));
                        loss += sigmoid ? -Math.Log(Math.Max(label == 1 ? p : 1 - p, 1e-12)) : Evaluator.Softplus(label == 1 ? -output[i] : output[i]);
                        scores.Add((float)(1 - p));
                        scores.Add((float)p);
                        labels.Add(label);
                    }

                    continue;
                }

                if (columns != classes.Count)
                {
                    throw new InvalidDataException($"the model gives {columns} scores per image for {classes.Count} classes ({string.Join(", ", classes)}).");
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    var row = output.Slice(i * classes.Count, classes.Count);
                    var label = batch.Labels[i];
                    loss += probabilities ? -Math.Log(Math.Max(row[label], 1e-12)) : Evaluator.LogSumExp(row) - row[label];
                    scores.AddRange(row.ToArray());
                    labels.Add(label);
                }
            }
        }

        var metrics = ClassificationMetrics.FromScores(scores.ToArray(), labels, classes, k: Math.Min(5, classes.Count));
        return (labels.Count == 0 ? double.NaN : loss / labels.Count, metrics.Accuracy, metrics);
    }
}

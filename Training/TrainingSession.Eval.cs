using OnnxCnn.Runtime;

namespace OnnxCnn.Training;

/// <summary>
/// Evaluation on the compiled eval graph (<see cref="TrainingGraph.Eval"/>): the step graph's forward with
/// BatchNorm in inference mode and dropout off, fed the current carried tensors where they live — no
/// export, no new session per call (the eval session is opened on first use and kept).
/// </summary>
public sealed partial class TrainingSession
{
    /// <summary>
    /// The loss and logits of a batch at the freeze boundary (the step graph's input: a
    /// <see cref="Features"/> output, or the batch itself without a prefix) under the current parameters.
    /// The loss is the training loss (class weights and label smoothing included); the logits are the
    /// step graph's (before any final Softmax or Sigmoid).
    /// </summary>
    public EvalResult EvaluateOnFeatures(Tensor<float> features, Tensor<long> labels, CancellationToken cancellationToken = default)
    {
        eval ??= InferenceSession.FromBytes(ForDeviceKernels(Graph.Eval).ToBytes(), ForPart(partOptions, "eval"));
        var feeds = new List<KeyValuePair<string, Tensor>> { new(Graph.Input, features), new(TrainingGraph.LabelsInput, labels) };
        var values = state.Current;
        var inputs = eval.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < values.Length; i++)
        {
            if (inputs.Contains(state.Names[i]))
            {
                feeds.Add(new(state.Names[i], values[i]));
            }
        }

        using var result = eval.Run(feeds, cancellationToken: cancellationToken);
        var logits = result[TrainingGraph.LogitsOutput].As<float>();
        return new EvalResult(result[TrainingGraph.LossOutput].As<float>()[0], logits.ToArray(), [.. logits.Shape]);
    }
}

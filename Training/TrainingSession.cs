using Google.Protobuf;
using OnnxCnn.Graphs;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training;

/// <summary>
/// Runs a compiled <see cref="TrainingGraph"/> on ONNX Runtime: the frozen prefix as an inference
/// session, the step graph with parameters and optimiser state fed in and their new values taken
/// back after each step.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    private readonly InferenceSession step;
    private readonly InferenceSession? prefix;
    private readonly Dictionary<string, Tensor<float>> values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> lastGradients = new(StringComparer.Ordinal);

    private TrainingSession(OnnxModel source, TrainingGraph graph, SessionOptions? options)
    {
        Source = source;
        Graph = graph;
        step = InferenceSession.FromBytes(graph.Step.ToBytes(), options);
        prefix = graph.Prefix is null ? null : InferenceSession.FromBytes(graph.Prefix.ToBytes(), options);
        var initializers = source.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var p in graph.Parameters)
        {
            var data = TensorData.FromProto(initializers[p]);
            var tensor = Tensor<float>.Create(data.Dims);
            data.Bytes.CopyTo(tensor.Bytes);
            values[p] = tensor;
        }

        foreach (var s in graph.State)
        {
            var owner = graph.Parameters.First(p => s.StartsWith(p + ".", StringComparison.Ordinal));
            values[s] = Tensor<float>.Filled(0f, [.. values[owner].Shape]);
        }
    }

    /// <summary>The compiled graphs.</summary>
    public TrainingGraph Graph { get; }

    /// <summary>The (cleaned) inference model the parameters come from and go back to.</summary>
    public OnnxModel Source { get; }

    /// <summary>Optimiser steps taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>Compiles and loads a training session.</summary>
    public static TrainingSession Create(OnnxModel model, TrainingSpec spec, SessionOptions? options = null)
    {
        var (clean, _) = Graphs.Edits.GraphEdits.Clean(model, unshareIdentities: true);
        return new TrainingSession(clean, TrainingCompiler.Compile(clean, spec), options);
    }

    /// <summary>A parameter's current value.</summary>
    public ReadOnlySpan<float> Parameter(string name) => values[name].Span;

    /// <summary>The gradients of the last step (when the spec exposes them).</summary>
    public IReadOnlyDictionary<string, float[]> LastGradients => lastGradients;

    /// <summary>One optimiser step on a batch of model inputs; returns the loss before the update.</summary>
    public float Step(Tensor<float> batch, Tensor<long> labels, float learningRate, CancellationToken cancellationToken = default)
    {
        RunResult? prefixResult = null;
        try
        {
            var input = batch as Tensor;
            if (prefix is not null)
            {
                prefixResult = prefix.Run(batch, cancellationToken);
                input = prefixResult[0].Value;
            }

            using var lr = Tensor<float>.FromSpan([learningRate]);
            using var stepNumber = Tensor<float>.FromSpan([StepCount + 1]);
            var feeds = new List<KeyValuePair<string, Tensor>>
            {
                new(Graph.Input, input),
                new(TrainingGraph.LabelsInput, labels),
                new(TrainingGraph.LearningRateInput, lr),
                new(TrainingGraph.StepInput, stepNumber),
            };
            feeds.AddRange(values.Select(v => new KeyValuePair<string, Tensor>(v.Key, v.Value)));
            using var result = step.Run(feeds, cancellationToken: cancellationToken);
            var loss = result[TrainingGraph.LossOutput].As<float>()[0];
            if (!float.IsFinite(loss))
            {
                throw new ArithmeticException($"the loss became {loss} at step {StepCount + 1}; parameters were left at their last finite values.");
            }

            foreach (var (name, tensor) in values)
            {
                result[Graph.UpdatedOutputs[name]].As<float>().Span.CopyTo(tensor.Span);
            }

            lastGradients.Clear();
            foreach (var (name, output) in result.Where(o => o.Key.StartsWith("grad:", StringComparison.Ordinal)))
            {
                lastGradients[name[5..]] = output.As<float>().ToArray();
            }

            StepCount++;
            return loss;
        }
        finally
        {
            prefixResult?.Dispose();
        }
    }

    /// <summary>The inference model with the trained parameters substituted (same graph, output name and convention).</summary>
    public OnnxModel ExportInference()
    {
        var model = Source.Clone();
        foreach (var p in Graph.Parameters)
        {
            var init = model.Graph.Initializer.First(t => t.Name == p);
            init.ClearRawData();
            init.FloatData.Clear();
            init.RawData = ByteString.CopyFrom(values[p].Bytes);
        }

        return model;
    }

    /// <summary>Releases the sessions and parameter buffers.</summary>
    public void Dispose()
    {
        step.Dispose();
        prefix?.Dispose();
        foreach (var t in values.Values)
        {
            t.Dispose();
        }
    }
}

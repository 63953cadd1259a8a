using Google.Protobuf;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
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
        step = InferenceSession.FromBytes(graph.Step.ToBytes(), ForPart(options, "step"));
        prefix = graph.Prefix is null ? null : InferenceSession.FromBytes(graph.Prefix.ToBytes(), ForPart(options, "prefix"));
        var initializers = source.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var p in graph.Parameters)
        {
            var data = TensorData.FromProto(initializers[p]);
            var tensor = Tensor<float>.Create(data.Dims);
            data.Bytes.CopyTo(tensor.Bytes);
            values[p] = tensor;
        }

        foreach (var s in graph.RunningStatistics)
        {
            var data = TensorData.FromProto(initializers[s]);
            var tensor = Tensor<float>.Create(data.Dims);
            data.Bytes.CopyTo(tensor.Bytes);
            values[s] = tensor;
        }

        foreach (var s in graph.State)
        {
            var owner = graph.Parameters.First(p => s.StartsWith(p + ".", StringComparison.Ordinal));
            values[s] = Tensor<float>.Filled(0f, [.. values[owner].Shape]);
        }
    }

    /// <summary>ORT's session config key for busy-waiting intra-op threads.</summary>
    private const string AllowSpinningKey = "session.intra_op.allow_spinning";

    /// <summary>
    /// The options of the prefix or step session: intra-op threads do not spin, because the next batch's prefix runs
    /// while the current step trains and two spinning pools would fight over the cores (measured on 2 cores: ResNet-18
    /// layer4 + head, batch 32, 29 images/s one after the other, 45–48 overlapped without spinning, 40 overlapped with
    /// one thread each); alone, a session without spinning was as fast (29.3 vs 29.2). An explicit setting is kept.
    /// </summary>
    private static SessionOptions ForPart(SessionOptions? options, string part)
    {
        var copy = options?.Clone() ?? new SessionOptions();
        copy.ConfigEntries.TryAdd(AllowSpinningKey, "0");

        // ORT's default pool (0 threads) pins one thread per core; two pinned pools would share cores badly.
        if (copy.IntraOpThreads == 0)
        {
            copy.IntraOpThreads = Environment.ProcessorCount;
        }
        if (copy.ProfilingPrefix is { } profile)
        {
            copy.ProfilingPrefix = $"{profile}_{part}";
        }

        return copy;
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
        var (clean, _) = Graphs.Edits.GraphEdits.Clean(model, unshareIdentities: true, constantsAsInitializers: true);
        return new TrainingSession(clean, TrainingCompiler.Compile(clean, spec), options);
    }

    /// <summary>A parameter's (or running statistic's) current value.</summary>
    public ReadOnlySpan<float> Parameter(string name) => values[name].Span;

    /// <summary>The logits of the last step (computed before its update), row-major.</summary>
    public float[] LastLogits { get; private set; } = [];

    /// <summary>The shape of <see cref="LastLogits"/>.</summary>
    public long[] LastLogitsShape { get; private set; } = [];

    /// <summary>The gradients of the last step (when the spec exposes them).</summary>
    public IReadOnlyDictionary<string, float[]> LastGradients => lastGradients;

    /// <summary>True when a frozen prefix runs before the step graph (its output can be cached: feature-cache mode).</summary>
    public bool HasPrefix => prefix is not null;

    /// <summary>The frozen prefix's output for a batch (the step graph's input); a copy the caller disposes.</summary>
    public Tensor<float> Features(Tensor<float> batch, CancellationToken cancellationToken = default)
    {
        if (prefix is null)
        {
            return Tensor<float>.FromSpan(batch.Span, [.. batch.Shape]);
        }

        using var result = prefix.Run(batch, cancellationToken);
        var features = result[0].Value.As<float>();
        return Tensor<float>.FromSpan(features.Span, [.. features.Shape]);
    }

    /// <summary>One optimiser step on features already computed by <see cref="Features"/> (feature-cache mode).</summary>
    public float StepOnFeatures(Tensor<float> features, Tensor<long> labels, float learningRate, CancellationToken cancellationToken = default) =>
        StepCore(features, labels, learningRate, cancellationToken);

    /// <summary>One optimiser step on a batch of model inputs; returns the loss before the update.</summary>
    public float Step(Tensor<float> batch, Tensor<long> labels, float learningRate, CancellationToken cancellationToken = default)
    {
        if (prefix is null)
        {
            return StepCore(batch, labels, learningRate, cancellationToken);
        }

        using var prefixResult = prefix.Run(batch, cancellationToken);
        return StepCore(prefixResult[0].Value, labels, learningRate, cancellationToken);
    }

    private float StepCore(Tensor input, Tensor<long> labels, float learningRate, CancellationToken cancellationToken)
    {
        {

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
            using var groupRates = new DisposableList(GroupRateTensors(learningRate));
            feeds.AddRange(groupRates.Items);
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

            var logits = result[TrainingGraph.LogitsOutput].As<float>();
            LastLogits = logits.ToArray();
            LastLogitsShape = [.. logits.Shape];
            lastGradients.Clear();
            foreach (var (name, output) in result.Where(o => o.Key.StartsWith("grad:", StringComparison.Ordinal)))
            {
                lastGradients[name[5..]] = output.As<float>().ToArray();
            }

            StepCount++;
            return loss;
        }
    }

    /// <summary>
    /// Explicit learning rates of parameter groups by group name; a group without an entry gets the
    /// step's base rate × its multiplier. Changing these needs no rebuild (they are graph inputs).
    /// </summary>
    public IDictionary<string, float> GroupLearningRates { get; } = new Dictionary<string, float>(StringComparer.Ordinal);

    private IEnumerable<KeyValuePair<string, Tensor>> GroupRateTensors(float learningRate)
    {
        foreach (var name in GroupLearningRates.Keys.Where(k => Graph.LearningRateGroups.All(g => g.Name != k)))
        {
            throw new ArgumentException($"no learning-rate group '{name}' in this training graph (groups: {string.Join(", ", Graph.LearningRateGroups.Select(g => g.Name))}).");
        }

        return Graph.LearningRateGroups.Select(group => new KeyValuePair<string, Tensor>(TrainingGraph.LearningRateInputOf(group.Name),
            Tensor<float>.FromSpan([GroupLearningRates.TryGetValue(group.Name, out var rate) ? rate : learningRate * group.Multiplier]))).ToList();
    }

    private sealed class DisposableList(IEnumerable<KeyValuePair<string, Tensor>> items) : IDisposable
    {
        public List<KeyValuePair<string, Tensor>> Items { get; } = [.. items];

        public void Dispose()
        {
            foreach (var item in Items)
            {
                item.Value.Dispose();
            }
        }
    }

    /// <summary>Metadata key of the step count in a checkpoint.</summary>
    public const string StepMetadataKey = "onnxcnn.checkpoint.step";

    /// <summary>
    /// Writes a checkpoint — a plain ONNX file whose initializers are the parameters and optimiser
    /// state, with the step count in its metadata — atomically (temporary file, flush, rename), so an
    /// interrupted save leaves the previous checkpoint intact.
    /// </summary>
    public void SaveCheckpoint(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "onnxcnn", Graph = new GraphProto { Name = "checkpoint" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        foreach (var (name, tensor) in values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(tensor.Bytes) };
            t.Dims.Add(tensor.Shape);
            model.Graph.Initializer.Add(t);
        }

        model.MetadataProps.Add(new StringStringEntryProto { Key = StepMetadataKey, Value = StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        new OnnxModel(model, path).Save(path);
    }

    /// <summary>Restores parameters, optimiser state and step count from a checkpoint of this training graph; returns its metadata.</summary>
    public IReadOnlyDictionary<string, string> LoadCheckpoint(string path)
    {
        var checkpoint = OnnxModel.Load(path);
        var tensors = checkpoint.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (name, tensor) in values)
        {
            if (!tensors.TryGetValue(name, out var stored))
            {
                throw new InvalidDataException($"checkpoint '{path}' has no '{name}'; it was written for another training setup.");
            }

            var data = TensorData.FromProto(stored, path);
            if (!data.Dims.SequenceEqual(tensor.Shape))
            {
                throw new InvalidDataException($"checkpoint '{path}': '{name}' is [{string.Join(',', data.Dims)}], the model needs {tensor.ShapeText}.");
            }

            data.Bytes.CopyTo(tensor.Bytes);
        }

        var meta = checkpoint.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        StepCount = meta.TryGetValue(StepMetadataKey, out var step) ? int.Parse(step, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return meta;
    }

    /// <summary>The inference model with the trained parameters substituted (same graph, output name and convention).</summary>
    public OnnxModel ExportInference()
    {
        var model = Source.Clone();
        foreach (var p in Graph.Parameters.Concat(Graph.RunningStatistics))
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

using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>
/// Runs a compiled <see cref="TrainingGraph"/> on ONNX Runtime: the frozen prefix as an inference
/// session, the step graph with the parameters, optimiser state and running statistics either
/// kept in two alternating sets on the session's device and bound once (<see cref="StepExecution.Bound"/>)
/// or fed in and copied back every step (<see cref="StepExecution.Feeds"/>).
/// </summary>
public sealed partial class TrainingSession : IDisposable
{
    private readonly InferenceSession step;
    private readonly InferenceSession? prefix;
    private readonly StateTransfer transfer;
    private readonly DeviceAllocator? allocator;
    private readonly CarriedState state;
    private readonly SessionOptions? partOptions;
    private InferenceSession? eval;

    private TrainingSession(OnnxModel source, TrainingGraph graph, SessionOptions? options, StepExecution execution, bool mirrorOnHost)
    {
        Source = source;
        Graph = graph;
        var initializers = source.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var initial = new List<(string Name, TensorData? Data, long[] Shape)>();
        foreach (var name in graph.Parameters.Concat(graph.RunningStatistics))
        {
            var data = TensorData.FromProto(initializers[name]);
            initial.Add((name, data, data.Dims.ToArray()));
        }

        foreach (var s in graph.State)
        {
            var owner = initial.First(p => s.StartsWith(p.Name + ".", StringComparison.Ordinal));
            initial.Add((s, null, owner.Shape));
        }

        var shapes = initial.Select(v => v.Shape).ToList();
        try
        {
            // The transfer session comes first: it resolves `auto` to the device every other session then names.
            transfer = new StateTransfer(shapes, options);
            Device = transfer.Device;
            var resolved = ForDevice(options, Device);
            partOptions = resolved;
            step = InferenceSession.FromBytes(ForDeviceKernels(graph.Step).ToBytes(), ForPart(resolved, "step"));
            prefix = graph.Prefix is null ? null : InferenceSession.FromBytes(graph.Prefix.ToBytes(), ForPart(resolved, "prefix"));
            Execution = execution == StepExecution.Auto ? DefaultExecution : execution;
            if (Execution == StepExecution.Bound)
            {
                allocator = mirrorOnHost ? null : new DeviceAllocator(step);
                var mirrored = mirrorOnHost || !allocator!.IsHost;
                state = new CarriedState(initial.Select(v => v.Name).ToList(), shapes, 2,
                    allocator is null ? shape => Tensor<float>.Create(shape) : allocator.Allocate<float>, mirrored ? transfer : null);
            }
            else
            {
                state = new CarriedState(initial.Select(v => v.Name).ToList(), shapes, 1, shape => Tensor<float>.Create(shape), null);
            }

            var zeros = new byte[shapes.Max(s => Tensor.ShapeSize(s)) * sizeof(float)];
            state.WriteAll(i => initial[i].Data is { } data ? (ReadOnlySpan<byte>)data.Bytes : zeros.AsSpan(0, (int)Tensor.ShapeSize(shapes[i]) * sizeof(float)));
            if (Execution == StepExecution.Bound)
            {
                bindings = CreateBindings();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The execution <see cref="StepExecution.Auto"/> picks. Bound: on CUDA the carried tensors must
    /// stay on the device, and on the CPU binding them once was measured no slower than feeding them
    /// (TrainingSession.Bound.cs has the numbers).
    /// </summary>
    internal static StepExecution DefaultExecution => StepExecution.Bound;

    /// <summary>
    /// The step or eval graph as this session's device loads it: on the CPU with its Convs on ORT's NCHWc kernels,
    /// which ORT's own optimiser applies only to constant weights (<see cref="NchwcConvs"/>).
    /// </summary>
    private OnnxModel ForDeviceKernels(OnnxModel graph) => Device.Kind == DeviceKind.Cpu ? NchwcConvs.Apply(graph) : graph;

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

    /// <summary>
    /// The session options this session's prefix and step run with (device resolved, intra-op threads explicit, no
    /// spinning; a profiling prefix gets <paramref name="part"/> appended), for another session that must run alike —
    /// <c>bench train</c> times inference forwards with them to put the step's cost in proportion.
    /// </summary>
    /// <param name="part">Appended to the profiling prefix (<c>PREFIX_part</c>), when profiling.</param>
    public SessionOptions PartOptions(string part) => ForPart(partOptions, part);

    private static SessionOptions? ForDevice(SessionOptions? options, ExecutionDevice device)
    {
        if (options is null || (options.Device == device && device.Kind == DeviceKind.Cpu))
        {
            return options;
        }

        var copy = options.Clone();
        copy.Device = device;
        if (device.Kind == DeviceKind.Cuda)
        {
            // A node without a CUDA kernel is an error, not a silent round trip through host memory every step.
            copy.ConfigEntries[SessionOptions.DisableCpuFallbackKey] = "1";
        }

        return copy;
    }

    /// <summary>The compiled graphs.</summary>
    public TrainingGraph Graph { get; }

    /// <summary>The (cleaned) inference model the parameters come from and go back to.</summary>
    public OnnxModel Source { get; }

    /// <summary>Optimiser steps taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>The device the step runs on (<c>auto</c> resolved).</summary>
    public ExecutionDevice Device { get; }

    /// <summary>How the carried tensors reach each step (<see cref="StepExecution.Auto"/> resolved).</summary>
    public StepExecution Execution { get; }

    /// <summary>Compiles and loads a training session.</summary>
    /// <param name="model">The inference model.</param>
    /// <param name="spec">What trains and how.</param>
    /// <param name="options">Session options (device, threads, profiling); on CUDA CPU fallback is disabled.</param>
    /// <param name="execution">Bound (device-resident, alternating sets) or fed each step; auto picks.</param>
    public static TrainingSession Create(OnnxModel model, TrainingSpec spec, SessionOptions? options = null, StepExecution execution = StepExecution.Auto) =>
        Create(model, spec, options, execution, mirrorOnHost: false);

    /// <summary>
    /// As <see cref="Create(OnnxModel, TrainingSpec, SessionOptions?, StepExecution)"/>; with
    /// <paramref name="mirrorOnHost"/> a bound session reads and writes its host-side sets through
    /// the transfer session, as it does when they live on a GPU (tests that path on the CPU).
    /// </summary>
    internal static TrainingSession Create(OnnxModel model, TrainingSpec spec, SessionOptions? options, StepExecution execution, bool mirrorOnHost)
    {
        var (clean, _) = Graphs.Edits.GraphEdits.Clean(model, unshareIdentities: true, constantsAsInitializers: true);
        return new TrainingSession(clean, TrainingCompiler.Compile(clean, spec), options, execution, mirrorOnHost);
    }

    /// <summary>
    /// A parameter's (or running statistic's, or optimiser state's) current value: after the last
    /// finished step. Copied from the device on demand when it lives there; valid until the next step.
    /// </summary>
    public ReadOnlySpan<float> Parameter(string name) => state.Read(state.IndexOf(name));

    /// <summary>True when a frozen prefix runs before the step graph (its output can be cached: feature-cache mode).</summary>
    public bool HasPrefix => prefix is not null;

    /// <summary>
    /// The frozen prefix's output for a batch (the step graph's input); a copy the caller disposes. It touches only the
    /// prefix session, so it may run on another thread while a step trains (finetune overlaps the next batch this way).
    /// </summary>
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

    /// <summary>One optimiser step on features already computed by <see cref="Features"/> (feature-cache mode); as <see cref="Step"/>.</summary>
    public StepResult StepOnFeatures(Tensor<float> features, Tensor<long> labels, float learningRate, CancellationToken cancellationToken = default) =>
        ThrowIfDiscarded(StepCore(features, labels, learningRate, cancellationToken));

    /// <summary>
    /// One optimiser step on a batch of model inputs. A loss that is not finite throws
    /// <see cref="ArithmeticException"/> and leaves every carried tensor at its value before the step
    /// (<see cref="TryStep"/> returns that outcome instead).
    /// </summary>
    public StepResult Step(Tensor<float> batch, Tensor<long> labels, float learningRate, CancellationToken cancellationToken = default) =>
        ThrowIfDiscarded(TryStep(batch, labels, learningRate, cancellationToken));

    /// <summary>
    /// One optimiser step whose non-finite guard reports instead of throwing: a NaN or infinite loss
    /// gives <see cref="StepGuard.Discarded"/>, with every carried tensor and the step count unchanged.
    /// </summary>
    public StepResult TryStep(Tensor<float> batch, Tensor<long> labels, float learningRate, CancellationToken cancellationToken = default)
    {
        if (prefix is null)
        {
            return StepCore(batch, labels, learningRate, cancellationToken);
        }

        using var prefixResult = Execution == StepExecution.Bound ? RunPrefixBound(batch, cancellationToken) : prefix.Run(batch, cancellationToken);
        return StepCore(prefixResult[0].Value, labels, learningRate, cancellationToken);
    }

    private StepResult StepCore(Tensor input, Tensor<long> labels, float learningRate, CancellationToken cancellationToken) =>
        Execution == StepExecution.Bound ? StepBound(input, labels, learningRate, cancellationToken) : StepFed(input, labels, learningRate, cancellationToken);

    private StepResult StepFed(Tensor input, Tensor<long> labels, float learningRate, CancellationToken cancellationToken)
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
        var values = state.Current;
        feeds.AddRange(state.Names.Select((name, i) => new KeyValuePair<string, Tensor>(name, values[i])));
        using var groupRates = new DisposableList(GroupRateTensors(learningRate));
        feeds.AddRange(groupRates.Items);
        using var result = step.Run(feeds, cancellationToken: cancellationToken);
        var loss = result[TrainingGraph.LossOutput].As<float>()[0];
        if (!float.IsFinite(loss))
        {
            return Finish(result, loss, StepGuard.Discarded);
        }

        for (var i = 0; i < values.Length; i++)
        {
            result[Graph.UpdatedOutputs[state.Names[i]]].As<float>().Span.CopyTo(values[i].Span);
        }

        return Finish(result, loss, StepGuard.Applied);
    }

    private static StepResult ThrowIfDiscarded(StepResult result) => result.Guard == StepGuard.Discarded
        ? throw new ArithmeticException($"the loss became {result.Loss} at step {result.Step}; parameters were left at their last finite values.")
        : result;

    /// <summary>Takes the logits and exposed gradients of a finished step off its host outputs and counts it when applied.</summary>
    private StepResult Finish(RunResult result, float loss, StepGuard guard)
    {
        var logits = result[TrainingGraph.LogitsOutput].As<float>();
        var gradients = new Dictionary<string, ReadOnlyMemory<float>>(StringComparer.Ordinal);
        foreach (var (name, output) in result.Where(o => o.Key.StartsWith(GradientPrefix, StringComparison.Ordinal)))
        {
            gradients[name[GradientPrefix.Length..]] = output.As<float>().ToArray();
        }

        var number = StepCount + 1;
        if (guard == StepGuard.Applied)
        {
            StepCount++;
        }

        return new StepResult(loss, logits.ToArray(), [.. logits.Shape], gradients, guard, number);
    }

    private const string GradientPrefix = "grad:";

    /// <summary>
    /// Explicit learning rates of parameter groups by group name; a group without an entry gets the
    /// step's base rate × its multiplier. Changing these needs no rebuild (they are graph inputs).
    /// </summary>
    public IDictionary<string, float> GroupLearningRates { get; } = new Dictionary<string, float>(StringComparer.Ordinal);

    private IEnumerable<KeyValuePair<string, Tensor>> GroupRateTensors(float learningRate) =>
        GroupRates(learningRate).Select(r => new KeyValuePair<string, Tensor>(r.Input, Tensor<float>.FromSpan([r.Rate]))).ToList();

    /// <summary>Each group's learning-rate input and its rate for this step.</summary>
    private List<(string Input, float Rate)> GroupRates(float learningRate)
    {
        foreach (var name in GroupLearningRates.Keys.Where(k => Graph.LearningRateGroups.All(g => g.Name != k)))
        {
            throw new ArgumentException($"no learning-rate group '{name}' in this training graph (groups: {string.Join(", ", Graph.LearningRateGroups.Select(g => g.Name))}).");
        }

        return Graph.LearningRateGroups.Select(group => (TrainingGraph.LearningRateInputOf(group.Name),
            GroupLearningRates.TryGetValue(group.Name, out var rate) ? rate : learningRate * group.Multiplier)).ToList();
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
    public void SaveCheckpoint(string path, IReadOnlyDictionary<string, string>? metadata = null) => Checkpoint(metadata).Save(path);

    /// <summary>
    /// The checkpoint <see cref="SaveCheckpoint"/> writes, built once (every carried tensor read, from the device when it
    /// lives there) so that one epoch's best and last checkpoints are saved from the same copy.
    /// </summary>
    internal OnnxModel Checkpoint(IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "onnxcnn", Graph = new GraphProto { Name = "checkpoint" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        foreach (var (name, i) in state.Names.Select((n, i) => (n, i)).OrderBy(v => v.n, StringComparer.Ordinal))
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(state.Read(i))) };
            t.Dims.Add(state.Shapes[i]);
            model.Graph.Initializer.Add(t);
        }

        model.MetadataProps.Add(new StringStringEntryProto { Key = StepMetadataKey, Value = StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return new OnnxModel(model);
    }

    /// <summary>Restores parameters, optimiser state and step count from a checkpoint of this training graph; returns its metadata.</summary>
    public IReadOnlyDictionary<string, string> LoadCheckpoint(string path)
    {
        var checkpoint = OnnxModel.Load(path);
        var tensors = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Graph.Initializer)
        {
            if (!tensors.TryAdd(t.Name, t))
            {
                throw new InvalidDataException($"checkpoint '{path}' holds '{t.Name}' twice.");
            }
        }

        var loaded = new TensorData[state.Names.Count];
        for (var i = 0; i < loaded.Length; i++)
        {
            var name = state.Names[i];
            if (!tensors.TryGetValue(name, out var stored))
            {
                throw new InvalidDataException($"checkpoint '{path}' has no '{name}'; it was written for another training setup.");
            }

            loaded[i] = TensorData.FromProto(stored, path);
            if (!loaded[i].Dims.SequenceEqual(state.Shapes[i]))
            {
                throw new InvalidDataException($"checkpoint '{path}': '{name}' is [{string.Join(',', loaded[i].Dims)}], the model needs {Tensor.FormatShape(state.Shapes[i])}.");
            }
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in checkpoint.Proto.MetadataProps)
        {
            if (!meta.TryAdd(p.Key, p.Value))
            {
                throw new InvalidDataException($"checkpoint '{path}' has metadata key '{p.Key}' twice.");
            }
        }

        var stepCount = 0;
        if (meta.TryGetValue(StepMetadataKey, out var step)
            && !int.TryParse(step, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out stepCount))
        {
            throw new InvalidDataException($"checkpoint '{path}' has step count '{step}' in '{StepMetadataKey}', not a non-negative number.");
        }

        // Every tensor is checked before any is replaced: a refused checkpoint leaves the session as it was.
        state.WriteAll(i => loaded[i].Bytes);
        StepCount = stepCount;
        return meta;
    }

    /// <summary>The inference model with the trained parameters substituted (same graph, output name and convention): a validated Graphs edit.</summary>
    public OnnxModel ExportInference() =>
        Graphs.Edits.WeightEdits.Substitute(Source, Graph.Parameters.Concat(Graph.RunningStatistics).ToDictionary(p => p, p => state.Read(state.IndexOf(p)).ToArray(), StringComparer.Ordinal));

    /// <summary>Releases the sessions and parameter buffers.</summary>
    public void Dispose()
    {
        // Bindings before the tensors they hold, tensors before their allocator, the allocator before its session.
        if (bindings is not null)
        {
            foreach (var binding in bindings)
            {
                binding.Dispose();
            }
        }

        prefixBinding?.Dispose();
        state?.Dispose();
        allocator?.Dispose();
        transfer?.Dispose();
        eval?.Dispose();
        step?.Dispose();
        prefix?.Dispose();
    }
}

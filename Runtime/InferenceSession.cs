using OnnxCnn.Runtime.Internal;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime;

/// <summary>
/// An ONNX model loaded into ONNX Runtime: ORT's own <see cref="Ort.InferenceSession"/>
/// (<see cref="OrtSession"/>) with OnnxCnn's device policy, input checks that name the input, and
/// pooled tensors handed over without a copy.
/// <see cref="Run(IEnumerable{KeyValuePair{string, Tensor}}, IReadOnlyList{string}?, CancellationToken)"/>
/// is safe to call from many threads at once (ORT sessions are).
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly Ort.InferenceSession session;
    private readonly Ort.RunOptions defaultRunOptions;
    private readonly Dictionary<string, int> inputIndex;
    private readonly Dictionary<string, int> outputIndex;
    private readonly Lazy<ModelMetadata> metadata;
    private bool disposed;

    private InferenceSession(Ort.InferenceSession session, ExecutionDevice device, string? path)
    {
        this.session = session;
        Device = device;
        ModelPath = path;
        Inputs = ReadMetadata(session.InputNames, session.InputMetadata);
        Outputs = ReadMetadata(session.OutputNames, session.OutputMetadata);
        inputIndex = Inputs.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        outputIndex = Outputs.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        metadata = new Lazy<ModelMetadata>(ReadModelMetadata);
        defaultRunOptions = new Ort.RunOptions();
    }

    /// <summary>The model's inputs, in graph order.</summary>
    public IReadOnlyList<NodeMetadata> Inputs { get; }

    /// <summary>The model's outputs, in graph order.</summary>
    public IReadOnlyList<NodeMetadata> Outputs { get; }

    /// <summary>The device the session actually runs on (CPU after an <c>auto</c> fallback).</summary>
    public ExecutionDevice Device { get; }

    /// <summary>The model file, when loaded from one.</summary>
    public string? ModelPath { get; }

    /// <summary>Producer, graph name, description, version and custom metadata.</summary>
    public ModelMetadata Metadata => metadata.Value;

    /// <summary>
    /// ORT's own session, for what OnnxCnn does not wrap (profiling, memory infos, ORT's other
    /// <c>Run</c> overloads). It belongs to this object: do not dispose it.
    /// </summary>
    public Ort.InferenceSession OrtSession
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return session;
        }
    }

    /// <summary>Run options shared by runs that cannot be cancelled (ORT only reads them).</summary>
    internal Ort.RunOptions DefaultRunOptions => defaultRunOptions;

    /// <summary>Loads a model file with OnnxCnn's session settings and device policy.</summary>
    public static InferenceSession Open(string path, SessionOptions? options = null)
    {
        RequireFile(path);
        var (native, device) = (options ?? new SessionOptions()).Build();
        using (native)
        {
            return Create(() => new Ort.InferenceSession(path, native), device, path);
        }
    }

    /// <summary>
    /// Loads a model file with the caller's own ORT options: any execution provider (TensorRT,
    /// OpenVINO, DirectML, CoreML …) and any ORT setting. OnnxCnn's device policy is not applied,
    /// so <see cref="Device"/> is <see cref="ExecutionDevice.Cpu"/> and tensors from a
    /// <see cref="DeviceAllocator"/> are host tensors. The options stay the caller's.
    /// </summary>
    public static InferenceSession Open(string path, Ort.SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        RequireFile(path);
        _ = OrtEnvironment.Env;
        return Create(() => new Ort.InferenceSession(path, options), ExecutionDevice.Cpu, path);
    }

    /// <summary>
    /// Loads a model from bytes (external data, if any, is resolved from the working folder).
    /// ORT's managed API takes an array, so the bytes are copied once for the load.
    /// </summary>
    public static InferenceSession FromBytes(ReadOnlySpan<byte> model, SessionOptions? options = null)
    {
        var bytes = model.ToArray();
        var (native, device) = (options ?? new SessionOptions()).Build();
        using (native)
        {
            return Create(() => new Ort.InferenceSession(bytes, native), device, null);
        }
    }

    /// <summary>Loads a model from bytes with the caller's own ORT options (see <see cref="Open(string, Ort.SessionOptions)"/>).</summary>
    public static InferenceSession FromBytes(ReadOnlySpan<byte> model, Ort.SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bytes = model.ToArray();
        _ = OrtEnvironment.Env;
        return Create(() => new Ort.InferenceSession(bytes, options), ExecutionDevice.Cpu, null);
    }

    private static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile, $"model file '{path}' not found.");
        }
    }

    private static InferenceSession Create(Func<Ort.InferenceSession> create, ExecutionDevice device, string? path)
    {
        var native = OrtErrors.Call(create, $"cannot load model {(path is null ? "from bytes" : $"'{path}'")}");
        try
        {
            return new InferenceSession(native, device, path);
        }
        catch
        {
            native.Dispose();
            throw;
        }
    }

    private static NodeMetadata[] ReadMetadata(IReadOnlyList<string> names, IReadOnlyDictionary<string, Ort.NodeMetadata> metadata)
    {
        var result = new NodeMetadata[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var m = metadata[names[i]];
            if (!m.IsTensor)
            {
                result[i] = new NodeMetadata(names[i], false, TensorElementType.Undefined, [], []);
                continue;
            }

            var symbols = m.SymbolicDimensions.Select(d => string.IsNullOrEmpty(d) ? null : d).ToArray();
            result[i] = new NodeMetadata(names[i], true, (TensorElementType)m.ElementDataType, [.. m.Dimensions.Select(d => (long)d)], symbols);
        }

        return result;
    }

    private ModelMetadata ReadModelMetadata()
    {
        var m = session.ModelMetadata;
        return new ModelMetadata(m.ProducerName, m.GraphName, m.Description, m.Version, m.CustomMetadataMap);
    }

    /// <summary>The input named <paramref name="name"/>; an exception listing the inputs if there is none.</summary>
    public NodeMetadata Input(string name) =>
        inputIndex.TryGetValue(name, out var i) ? Inputs[i]
            : throw new ArgumentException($"model has no input '{name}'; its inputs are: {string.Join(", ", Inputs.Select(x => x.Name))}.");

    /// <summary>Runs the model on one input tensor (for single-input models); returns every output.</summary>
    public RunResult Run(Tensor input, CancellationToken cancellationToken = default)
    {
        if (Inputs.Count != 1)
        {
            throw new ArgumentException($"model has {Inputs.Count} inputs ({string.Join(", ", Inputs.Select(x => x.Name))}); pass them by name.");
        }

        return Run([new KeyValuePair<string, Tensor>(Inputs[0].Name, input)], null, cancellationToken);
    }

    /// <summary>
    /// Runs the model. Inputs are checked against the model first (name, element type, shape), so a
    /// mistake is an exception naming the input and what it expects. Outputs are ORT-allocated and
    /// wrapped without copying; dispose the result.
    /// </summary>
    /// <param name="inputs">Every model input, by name.</param>
    /// <param name="outputNames">Outputs to compute; null for all, in graph order.</param>
    /// <param name="cancellationToken">Cancels a run in progress (ORT's terminate flag).</param>
    public RunResult Run(IEnumerable<KeyValuePair<string, Tensor>> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default)
    {
        var inputList = inputs as IReadOnlyList<KeyValuePair<string, Tensor>> ?? inputs.ToArray();
        var outputs = ResolveOutputs(outputNames);
        var (names, values) = PrepareInputs(inputList);
        var wanted = outputs.Select(i => Outputs[i].Name).ToArray();
        var produced = RunScope.Invoke(defaultRunOptions, cancellationToken, o => session.Run(o, names, values, wanted));
        GC.KeepAlive(inputList);
        var result = new KeyValuePair<string, Tensor>[outputs.Length];
        var index = 0;
        try
        {
            // The tensors take over ORT's values; the collection itself is not disposed.
            foreach (var value in produced)
            {
                result[index] = new(wanted[index], OrtValues.ToTensor(value, wanted[index]));
                index++;
            }
        }
        catch
        {
            foreach (var value in produced.Skip(index + 1))
            {
                value.Dispose();
            }

            foreach (var done in result.Take(index))
            {
                done.Value.Dispose();
            }

            throw;
        }

        return new RunResult(result);
    }

    /// <summary>
    /// Runs the model writing into preallocated output tensors (no allocation per run; the
    /// tensors' shapes must be the outputs' shapes for these inputs).
    /// </summary>
    public void RunInto(IEnumerable<KeyValuePair<string, Tensor>> inputs, IEnumerable<KeyValuePair<string, Tensor>> outputs, CancellationToken cancellationToken = default)
    {
        var inputList = inputs as IReadOnlyList<KeyValuePair<string, Tensor>> ?? inputs.ToArray();
        var outputList = outputs as IReadOnlyList<KeyValuePair<string, Tensor>> ?? outputs.ToArray();
        var outputNames = new string[outputList.Count];
        var outputValues = new Ort.OrtValue[outputList.Count];
        for (var i = 0; i < outputList.Count; i++)
        {
            var (name, tensor) = outputList[i];
            if (!outputIndex.TryGetValue(name, out var index))
            {
                throw new ArgumentException($"model has no output '{name}'; its outputs are: {string.Join(", ", Outputs.Select(x => x.Name))}.");
            }

            var meta = Outputs[index];
            if (meta.ElementType != tensor.ElementType)
            {
                throw new ArgumentException($"output '{name}' is {meta.ElementType.Name()}{meta.ShapeText}; the tensor given for it is {tensor.ElementType.Name()}.");
            }

            outputNames[i] = name;
            outputValues[i] = tensor.OrtValue;
        }

        var (names, values) = PrepareInputs(inputList);
        RunScope.Invoke(defaultRunOptions, cancellationToken, o =>
        {
            session.Run(o, names, values, outputNames, outputValues);
            return 0;
        });
        GC.KeepAlive(inputList);
        GC.KeepAlive(outputList);
    }

    /// <summary>Creates an IO binding for this session (inputs and outputs bound once, run many times).</summary>
    public IoBinding CreateIoBinding() => new(this);

    private int[] ResolveOutputs(IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            return Enumerable.Range(0, Outputs.Count).ToArray();
        }

        var result = new int[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            if (!outputIndex.TryGetValue(names[i], out result[i]))
            {
                throw new ArgumentException($"model has no output '{names[i]}'; its outputs are: {string.Join(", ", Outputs.Select(x => x.Name))}.");
            }
        }

        return result;
    }

    /// <summary>Checks inputs against the model's metadata, with messages that name the input.</summary>
    internal int[] ValidateInputs(IReadOnlyList<KeyValuePair<string, Tensor>> inputs)
    {
        var indices = new int[inputs.Count];
        var seen = new bool[Inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var (name, tensor) = inputs[i];
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (!inputIndex.TryGetValue(name, out var index))
            {
                throw new ArgumentException($"model has no input '{name}'; its inputs are: {string.Join(", ", Inputs.Select(x => x.Name))}.");
            }

            var meta = Inputs[index];
            if (seen[index])
            {
                throw new ArgumentException($"input '{name}' is given twice.");
            }

            seen[index] = true;
            if (meta.ElementType != tensor.ElementType)
            {
                throw new ArgumentException($"input '{name}' expects {meta.ElementType.Name()}{meta.ShapeText}, got {tensor.ElementType.Name()}{tensor.ShapeText}.");
            }

            if (!meta.Accepts(tensor.Shape))
            {
                throw new ArgumentException($"input '{name}' expects shape {meta.ShapeText}, got {tensor.ShapeText}.");
            }

            indices[i] = index;
        }

        for (var i = 0; i < seen.Length; i++)
        {
            if (!seen[i])
            {
                throw new ArgumentException($"input '{Inputs[i].Name}' ({Inputs[i].ElementType.Name()}{Inputs[i].ShapeText}) is missing.");
            }
        }

        return indices;
    }

    private (string[] Names, Ort.OrtValue[] Values) PrepareInputs(IReadOnlyList<KeyValuePair<string, Tensor>> inputs)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var indices = ValidateInputs(inputs);
        var names = new string[inputs.Count];
        var values = new Ort.OrtValue[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            names[i] = Inputs[indices[i]].Name;
            values[i] = inputs[i].Value.OrtValue;
        }

        return (names, values);
    }

    /// <summary>Releases the native session.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        defaultRunOptions.Dispose();
        session.Dispose();
    }
}

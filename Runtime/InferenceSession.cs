using System.Runtime.InteropServices;
using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>
/// An ONNX model loaded into ONNX Runtime. <see cref="Run(IEnumerable{KeyValuePair{string, Tensor}}, IReadOnlyList{string}?, CancellationToken)"/>
/// is safe to call from many threads at once (ORT sessions are).
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly OrtHandle session;
    private readonly Dictionary<string, int> inputIndex;
    private readonly Dictionary<string, int> outputIndex;
    private readonly nint[] inputNamePtrs;
    private readonly nint[] outputNamePtrs;
    private readonly Lazy<ModelMetadata> metadata;
    private bool disposed;

    private InferenceSession(OrtHandle session, ExecutionDevice device, string? path)
    {
        this.session = session;
        Device = device;
        ModelPath = path;
        Inputs = ReadMetadata(Api.GetInputCount(session), i => Api.GetInputName(session, i), i => Api.GetInputTypeInfo(session, i));
        Outputs = ReadMetadata(Api.GetOutputCount(session), i => Api.GetOutputName(session, i), i => Api.GetOutputTypeInfo(session, i));
        inputIndex = Inputs.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        outputIndex = Outputs.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        inputNamePtrs = Inputs.Select(m => Marshal.StringToCoTaskMemUTF8(m.Name)).ToArray();
        outputNamePtrs = Outputs.Select(m => Marshal.StringToCoTaskMemUTF8(m.Name)).ToArray();
        metadata = new Lazy<ModelMetadata>(ReadModelMetadata);
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

    internal OrtHandle Handle => session;

    /// <summary>Loads a model file.</summary>
    public static InferenceSession Open(string path, SessionOptions? options = null)
    {
        if (!File.Exists(path))
        {
            throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile, $"model file '{path}' not found.");
        }

        return Create(options, o => Api.CreateSession(OrtEnvironment.Handle, path, o), path);
    }

    /// <summary>Loads a model from bytes (external data, if any, is resolved from the working folder).</summary>
    public static InferenceSession FromBytes(ReadOnlySpan<byte> model, SessionOptions? options = null)
    {
        // ORT reads the bytes only during the call: pin them instead of copying (models can be 500 MB).
        fixed (byte* data = model)
        {
            var address = (nint)data;
            var length = model.Length;
            return Create(options, o => Api.CreateSession(OrtEnvironment.Handle, new ReadOnlySpan<byte>((void*)address, length), o), null);
        }
    }

    private static InferenceSession Create(SessionOptions? options, Func<OrtHandle, OrtHandle> create, string? path)
    {
        var (native, device) = (options ?? new SessionOptions()).Build();
        using (native)
        {
            OrtHandle handle;
            try
            {
                handle = create(native);
            }
            catch (OnnxRuntimeException e)
            {
                throw new OnnxRuntimeException(e.Code, $"cannot load model {(path is null ? "from bytes" : $"'{path}'")}: {e.Message}", e);
            }

            try
            {
                return new InferenceSession(handle, device, path);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
    }

    private static NodeMetadata[] ReadMetadata(int count, Func<int, string> name, Func<int, OrtHandle> typeInfo)
    {
        var result = new NodeMetadata[count];
        for (var i = 0; i < count; i++)
        {
            using var info = typeInfo(i);
            var n = name(i);
            if (Api.GetOnnxType(info) != 1)
            {
                result[i] = new NodeMetadata(n, false, TensorElementType.Undefined, [], []);
                continue;
            }

            var (type, dims, symbols) = Api.ReadTensorInfo(Api.CastToTensorInfo(info));
            result[i] = new NodeMetadata(n, true, (TensorElementType)type, dims, symbols);
        }

        return result;
    }

    private ModelMetadata ReadModelMetadata()
    {
        using var m = Api.GetModelMetadata(session);
        return new ModelMetadata(Api.MetadataProducer(m), Api.MetadataGraphName(m), Api.MetadataDescription(m),
            Api.MetadataVersion(m), Api.MetadataCustomMap(m));
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
        var values = new nint[outputs.Length];
        RunCore(inputList, outputs, values, cancellationToken);
        var result = new KeyValuePair<string, Tensor>[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            var name = Outputs[outputs[i]].Name;
            var handle = new OrtHandle(values[i], Api.IdxReleaseValue);
            try
            {
                result[i] = new(name, OrtValues.ToTensor(handle, name));
            }
            catch
            {
                for (var j = i + 1; j < outputs.Length; j++)
                {
                    new OrtHandle(values[j], Api.IdxReleaseValue).Dispose();
                }

                foreach (var done in result.Take(i))
                {
                    done.Value.Dispose();
                }

                throw;
            }
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
        var indices = new int[outputList.Count];
        var values = new nint[outputList.Count];
        for (var i = 0; i < outputList.Count; i++)
        {
            var (name, tensor) = outputList[i];
            if (!outputIndex.TryGetValue(name, out indices[i]))
            {
                throw new ArgumentException($"model has no output '{name}'; its outputs are: {string.Join(", ", Outputs.Select(x => x.Name))}.");
            }

            var meta = Outputs[indices[i]];
            if (meta.ElementType != tensor.ElementType)
            {
                throw new ArgumentException($"output '{name}' is {meta.ElementType.Name()}{meta.ShapeText}; the tensor given for it is {tensor.ElementType.Name()}.");
            }

            values[i] = tensor.OrtValue.Pointer;
        }

        RunCore(inputList, indices, values, cancellationToken);
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

    private void RunCore(IReadOnlyList<KeyValuePair<string, Tensor>> inputs, int[] outputs, nint[] outputValues, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var indices = ValidateInputs(inputs);
        var inputNames = stackalloc nint[inputs.Count];
        var inputValues = stackalloc nint[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            inputNames[i] = inputNamePtrs[indices[i]];
            inputValues[i] = inputs[i].Value.OrtValue.Pointer;
        }

        var outputNames = stackalloc nint[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            outputNames[i] = outputNamePtrs[outputs[i]];
        }

        using var terminator = RunTerminator.For(cancellationToken);
        fixed (nint* outs = outputValues)
        {
            try
            {
                Api.Run(session, terminator.Pointer, inputNames, inputValues, inputs.Count, outputNames, outputs.Length, outs);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("the run was cancelled.", cancellationToken);
            }
        }

        GC.KeepAlive(inputs);
    }

    /// <summary>Releases the native session.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        session.Dispose();
        foreach (var p in inputNamePtrs.Concat(outputNamePtrs))
        {
            Marshal.FreeCoTaskMem(p);
        }
    }
}

using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>
/// Inputs and outputs bound to a session once and run many times: outputs can be preallocated
/// tensors or left for ORT to allocate on a device (e.g. kept on the GPU between training steps).
/// Not thread-safe: use one binding per thread.
/// </summary>
public sealed class IoBinding : IDisposable
{
    private readonly InferenceSession session;
    private readonly OrtHandle binding;
    private readonly Dictionary<string, Tensor> keepAlive = new(StringComparer.Ordinal);

    internal IoBinding(InferenceSession session)
    {
        this.session = session;
        binding = Api.CreateIoBinding(session.Handle);
    }

    /// <summary>Binds an input (host or device tensor); checked against the model like <c>Run</c>'s inputs.</summary>
    public void BindInput(string name, Tensor tensor)
    {
        var meta = session.Input(name);
        if (meta.ElementType != tensor.ElementType || !meta.Accepts(tensor.Shape))
        {
            throw new ArgumentException($"input '{name}' expects {meta.ElementType.Name()}{meta.ShapeText}, got {tensor.ElementType.Name()}{tensor.ShapeText}.");
        }

        Api.BindInput(binding, Api.Utf8Z(name), tensor.OrtValue);
        keepAlive["in:" + name] = tensor;
    }

    /// <summary>Binds an output to a preallocated tensor that ORT writes into.</summary>
    public void BindOutput(string name, Tensor tensor)
    {
        RequireOutput(name);
        Api.BindOutput(binding, Api.Utf8Z(name), tensor.OrtValue);
        keepAlive["out:" + name] = tensor;
    }

    /// <summary>Lets ORT allocate an output on a device (CPU, or a CUDA device so it stays there).</summary>
    public void BindOutputToDevice(string name, ExecutionDevice device)
    {
        RequireOutput(name);
        using var info = device.Kind == DeviceKind.Cuda
            ? Api.CreateMemoryInfo("Cuda", 0, device.Id, 0)
            : Api.CreateCpuMemoryInfo();
        Api.BindOutputToDevice(binding, Api.Utf8Z(name), info);
    }

    /// <summary>Runs the session on the bound values.</summary>
    public void Run(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var terminator = RunTerminator.For(cancellationToken);
        try
        {
            Api.RunWithBinding(session.Handle, terminator.Pointer, binding);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("the run was cancelled.", cancellationToken);
        }
    }

    /// <summary>The bound outputs after a run (new references; dispose the result).</summary>
    public RunResult GetOutputs()
    {
        var outputs = Api.GetBoundOutputs(binding);
        var items = new KeyValuePair<string, Tensor>[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            items[i] = new(outputs[i].Name, OrtValues.ToTensor(outputs[i].Value, outputs[i].Name));
        }

        return new RunResult(items);
    }

    /// <summary>
    /// The bound outputs named in <paramref name="names"/> after a run, in binding order (new
    /// references; dispose the result). The others are released without being wrapped, so reading
    /// a few outputs of a binding with many device-resident ones costs no per-output work.
    /// </summary>
    public RunResult GetOutputs(IEnumerable<string> names)
    {
        var wanted = names.ToHashSet(StringComparer.Ordinal);
        var outputs = Api.GetBoundOutputs(binding);
        var items = new List<KeyValuePair<string, Tensor>>(wanted.Count);
        try
        {
            foreach (var (name, value) in outputs)
            {
                if (wanted.Contains(name))
                {
                    items.Add(new(name, OrtValues.ToTensor(value, name)));
                }
                else
                {
                    value.Dispose();
                }
            }
        }
        catch
        {
            foreach (var (_, value) in outputs)
            {
                value.Dispose();
            }

            foreach (var (_, tensor) in items)
            {
                tensor.Dispose();
            }

            throw;
        }

        return new RunResult([.. items]);
    }

    /// <summary>Waits for device copies of bound inputs.</summary>
    public void SynchronizeInputs() => Api.SynchronizeBoundInputs(binding);

    /// <summary>Waits for device outputs to be ready.</summary>
    public void SynchronizeOutputs() => Api.SynchronizeBoundOutputs(binding);

    /// <summary>Unbinds every input.</summary>
    public void ClearInputs()
    {
        Api.ClearBoundInputs(binding);
        foreach (var key in keepAlive.Keys.Where(k => k.StartsWith("in:", StringComparison.Ordinal)).ToList())
        {
            keepAlive.Remove(key);
        }
    }

    /// <summary>Unbinds every output.</summary>
    public void ClearOutputs()
    {
        Api.ClearBoundOutputs(binding);
        foreach (var key in keepAlive.Keys.Where(k => k.StartsWith("out:", StringComparison.Ordinal)).ToList())
        {
            keepAlive.Remove(key);
        }
    }

    private void RequireOutput(string name)
    {
        if (!session.Outputs.Any(o => o.Name == name))
        {
            throw new ArgumentException($"model has no output '{name}'; its outputs are: {string.Join(", ", session.Outputs.Select(x => x.Name))}.");
        }
    }

    /// <summary>Releases the native binding (bound tensors stay the caller's).</summary>
    public void Dispose()
    {
        binding.Dispose();
        keepAlive.Clear();
    }
}

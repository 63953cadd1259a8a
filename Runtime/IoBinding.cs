using OnnxCnn.Runtime.Internal;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime;

/// <summary>
/// Inputs and outputs bound to a session once and run many times: outputs can be preallocated
/// tensors or left for ORT to allocate on a device (e.g. kept on the GPU between training steps).
/// Not thread-safe: use one binding per thread. Over ORT's own <see cref="Ort.OrtIoBinding"/>
/// (<see cref="OrtBinding"/>), with inputs checked against the model and bound tensors kept alive.
/// </summary>
public sealed class IoBinding : IDisposable
{
    private readonly InferenceSession session;
    private readonly Ort.OrtIoBinding binding;
    private readonly Dictionary<string, Tensor> keepAlive = new(StringComparer.Ordinal);

    internal IoBinding(InferenceSession session)
    {
        this.session = session;
        binding = OrtErrors.Call(session.OrtSession.CreateIoBinding);
    }

    /// <summary>ORT's own binding (owned by this object: do not dispose it).</summary>
    public Ort.OrtIoBinding OrtBinding => binding;

    /// <summary>Binds an input (host or device tensor); checked against the model like <c>Run</c>'s inputs.</summary>
    public void BindInput(string name, Tensor tensor)
    {
        var meta = session.Input(name);
        if (meta.ElementType != tensor.ElementType || !meta.Accepts(tensor.Shape))
        {
            throw new ArgumentException($"input '{name}' expects {meta.ElementType.Name()}{meta.ShapeText}, got {tensor.ElementType.Name()}{tensor.ShapeText}.");
        }

        Call(() => binding.BindInput(name, tensor.OrtValue));
        keepAlive["in:" + name] = tensor;
    }

    /// <summary>Binds an output to a preallocated tensor that ORT writes into.</summary>
    public void BindOutput(string name, Tensor tensor)
    {
        RequireOutput(name);
        Call(() => binding.BindOutput(name, tensor.OrtValue));
        keepAlive["out:" + name] = tensor;
    }

    /// <summary>Lets ORT allocate an output on a device (CPU, or a CUDA device so it stays there).</summary>
    public void BindOutputToDevice(string name, ExecutionDevice device)
    {
        RequireOutput(name);
        if (device.Kind != DeviceKind.Cuda)
        {
            // ORT's default CPU memory info is shared: never disposed here.
            Call(() => binding.BindOutputToDevice(name, Ort.OrtMemoryInfo.DefaultInstance));
            return;
        }

        // ORT copies the memory info into the binding, so this one can go right after.
        using var info = DeviceMemory.Cuda(device.Id, Ort.OrtAllocatorType.DeviceAllocator);
        Call(() => binding.BindOutputToDevice(name, info));
    }

    /// <summary>Runs the session on the bound values.</summary>
    public void Run(CancellationToken cancellationToken = default)
    {
        RunScope.Invoke(session.DefaultRunOptions, cancellationToken, o =>
        {
            session.OrtSession.RunWithBinding(o, binding);
            return 0;
        });
    }

    /// <summary>The bound outputs after a run (new references; dispose the result).</summary>
    public RunResult GetOutputs()
    {
        var outputs = BoundOutputs();
        var items = new KeyValuePair<string, Tensor>[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            try
            {
                items[i] = new(outputs[i].Name, OrtValues.ToTensor(outputs[i].Value, outputs[i].Name));
            }
            catch
            {
                foreach (var (_, value) in outputs.Skip(i + 1))
                {
                    value.Dispose();
                }

                foreach (var (_, tensor) in items.Take(i))
                {
                    tensor.Dispose();
                }

                throw;
            }
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
        var outputs = BoundOutputs();
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
            foreach (var (name, value) in outputs)
            {
                if (!items.Any(i => i.Key == name))
                {
                    value.Dispose();
                }
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
    public void SynchronizeInputs() => Call(binding.SynchronizeBoundInputs);

    /// <summary>Waits for device outputs to be ready.</summary>
    public void SynchronizeOutputs() => Call(binding.SynchronizeBoundOutputs);

    /// <summary>Unbinds every input.</summary>
    public void ClearInputs()
    {
        binding.ClearBoundInputs();
        foreach (var key in keepAlive.Keys.Where(k => k.StartsWith("in:", StringComparison.Ordinal)).ToList())
        {
            keepAlive.Remove(key);
        }
    }

    /// <summary>Unbinds every output.</summary>
    public void ClearOutputs()
    {
        binding.ClearBoundOutputs();
        foreach (var key in keepAlive.Keys.Where(k => k.StartsWith("out:", StringComparison.Ordinal)).ToList())
        {
            keepAlive.Remove(key);
        }
    }

    /// <summary>The bound outputs with their names, in binding order (new values the caller owns).</summary>
    private (string Name, Ort.OrtValue Value)[] BoundOutputs()
    {
        var names = OrtErrors.Call(binding.GetOutputNames);
        var values = OrtErrors.Call(binding.GetOutputValues);
        return [.. names.Zip(values)];
    }

    private static void Call(Action action) => OrtErrors.Call(() =>
    {
        action();
        return 0;
    });

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

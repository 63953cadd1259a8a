using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>ORT's graph optimisation levels.</summary>
public enum GraphOptimizationLevel
{
    /// <summary>No optimisation.</summary>
    None = 0,
    /// <summary>Semantics-preserving basic rewrites (constant folding, redundant node removal).</summary>
    Basic = 1,
    /// <summary>Basic plus complex fusions.</summary>
    Extended = 2,
    /// <summary>Everything, including layout optimisations (the default).</summary>
    All = 99,
}

/// <summary>Whether ORT runs independent nodes one after another or in parallel.</summary>
public enum ExecutionMode
{
    /// <summary>One node at a time (intra-op threads still parallelise each node).</summary>
    Sequential = 0,
    /// <summary>Independent nodes in parallel on the inter-op pool.</summary>
    Parallel = 1,
}

/// <summary>How a session is built. Defaults follow ONNX Runtime's own.</summary>
public sealed class SessionOptions
{
    /// <summary>A copy with its own dictionaries (for sessions that need one setting changed).</summary>
    public SessionOptions Clone()
    {
        var copy = (SessionOptions)MemberwiseClone();
        copy.ConfigEntries = new Dictionary<string, string>(ConfigEntries, StringComparer.Ordinal);
        copy.CudaOptions = new Dictionary<string, string>(CudaOptions, StringComparer.Ordinal);
        return copy;
    }

    /// <summary>The session config key that turns a node without a kernel on the chosen provider into an error.</summary>
    public const string DisableCpuFallbackKey = "session.disable_cpu_ep_fallback";

    /// <summary>Where the session runs (default CPU).</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>Threads inside one operator; 0 lets ORT choose (one per physical core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads across operators in parallel mode; 0 lets ORT choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Graph optimisation level (default <see cref="GraphOptimizationLevel.All"/>).</summary>
    public GraphOptimizationLevel OptimizationLevel { get; set; } = GraphOptimizationLevel.All;

    /// <summary>When set, ORT writes the optimised model there.</summary>
    public string? OptimizedModelPath { get; set; }

    /// <summary>When set, ORT records every node's run time and writes a Chrome-trace JSON file named PREFIX_&lt;date&gt;.json when the session is disposed.</summary>
    public string? ProfilingPrefix { get; set; }

    /// <summary>Sequential (default) or parallel execution.</summary>
    public ExecutionMode ExecutionMode { get; set; } = ExecutionMode.Sequential;

    /// <summary>Memory pattern planning (default on; turn off for varying input shapes).</summary>
    public bool MemoryPattern { get; set; } = true;

    /// <summary>The CPU memory arena (default on).</summary>
    public bool CpuMemoryArena { get; set; } = true;

    /// <summary>Severity of this session's log; null uses the environment's.</summary>
    public OrtLogLevel? LogLevel { get; set; }

    /// <summary>Session config entries (<c>AddSessionConfigEntry</c>), e.g. <see cref="DisableCpuFallbackKey"/>.</summary>
    public IDictionary<string, string> ConfigEntries { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra CUDA provider options (V2 keys such as <c>cudnn_conv_algo_search</c>); device_id comes from <see cref="Device"/>.</summary>
    public IDictionary<string, string> CudaOptions { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Builds the native options; returns them and the device actually chosen.</summary>
    internal (OrtHandle Options, ExecutionDevice Device) Build()
    {
        if (IntraOpThreads < 0 || InterOpThreads < 0)
        {
            throw new ArgumentException($"thread counts must be >= 0 (intra-op {IntraOpThreads}, inter-op {InterOpThreads}).");
        }

        var options = Api.CreateSessionOptions();
        try
        {
            Api.SetIntraOpThreads(options, IntraOpThreads);
            Api.SetInterOpThreads(options, InterOpThreads);
            Api.SetGraphOptimizationLevel(options, (int)OptimizationLevel);
            Api.SetExecutionMode(options, (int)ExecutionMode);
            Api.SetMemoryPattern(options, MemoryPattern);
            Api.SetCpuMemArena(options, CpuMemoryArena);
            if (LogLevel is { } level)
            {
                Api.SetLogSeverity(options, (int)level);
            }

            if (ProfilingPrefix is not null)
            {
                Api.EnableProfiling(options, ProfilingPrefix);
            }

            if (OptimizedModelPath is not null)
            {
                Api.SetOptimizedModelFilePath(options, OptimizedModelPath);
            }

            foreach (var (key, value) in ConfigEntries)
            {
                Api.AddSessionConfigEntry(options, key, value);
            }

            var device = AppendProvider(options);
            return (options, device);
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private ExecutionDevice AppendProvider(OrtHandle options)
    {
        if (Device.Kind == DeviceKind.Cpu)
        {
            return ExecutionDevice.Cpu;
        }

        var settings = new Dictionary<string, string>(CudaOptions, StringComparer.Ordinal)
        {
            ["device_id"] = Device.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            Api.AppendCudaProvider(options, settings);
            return new ExecutionDevice(DeviceKind.Cuda, Device.Id);
        }
        catch (OnnxRuntimeException e)
        {
            var why = CudaUnavailableReason(e.Message);
            if (Device.Kind == DeviceKind.Auto)
            {
                OrtEnvironment.RaiseNotice($"CUDA is not available ({why}); running on CPU.");
                return ExecutionDevice.Cpu;
            }

            throw new OnnxRuntimeException(e.Code, $"CUDA execution provider (device {Device}) could not be loaded: {why}", e);
        }
    }

    private static string CudaUnavailableReason(string ortMessage)
    {
        var folder = Path.GetDirectoryName(OrtLibrary.LoadedPath) ?? ".";
        var missing = new[] { "libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so" }
            .Where(f => !File.Exists(Path.Combine(folder, f))).ToArray();
        var firstLine = ortMessage.Split('\n')[0].Trim();
        return missing.Length > 0
            ? $"{string.Join(" and ", missing)} not found beside {OrtLibrary.LoadedPath} (they come with a CUDA build of ONNX Runtime {OrtLibrary.Version} and need the CUDA 12 runtime and cuDNN 9); ONNX Runtime said: {firstLine}"
            : $"ONNX Runtime said: {firstLine} (check the CUDA 12 runtime, cuDNN 9 and the NVIDIA driver)";
    }
}

using OnnxCnn.Runtime.Internal;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime;

/// <summary>
/// ORT's graph optimisation levels: a thin mapping of <see cref="Ort.GraphOptimizationLevel"/> (same
/// numbers) with .NET-style names, so code that sets it does not need ORT's namespace.
/// </summary>
public enum GraphOptimizationLevel
{
    /// <summary>No optimisation.</summary>
    None = Ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    /// <summary>Semantics-preserving basic rewrites (constant folding, redundant node removal).</summary>
    Basic = Ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    /// <summary>Basic plus complex fusions.</summary>
    Extended = Ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    /// <summary>Everything, including layout optimisations (the default).</summary>
    All = Ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}

/// <summary>Whether ORT runs independent nodes one after another or in parallel (a thin mapping of <see cref="Ort.ExecutionMode"/>).</summary>
public enum ExecutionMode
{
    /// <summary>One node at a time (intra-op threads still parallelise each node).</summary>
    Sequential = Ort.ExecutionMode.ORT_SEQUENTIAL,
    /// <summary>Independent nodes in parallel on the inter-op pool.</summary>
    Parallel = Ort.ExecutionMode.ORT_PARALLEL,
}

/// <summary>
/// How OnnxCnn builds a session: the device policy (<see cref="Device"/>) and the settings OnnxCnn
/// uses. Defaults follow ONNX Runtime's own. An app that needs another execution provider
/// (TensorRT, OpenVINO, DirectML, CoreML …) or any ORT setting not here passes its own
/// <see cref="Ort.SessionOptions"/> to <see cref="InferenceSession.Open(string, Ort.SessionOptions)"/>.
/// </summary>
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

    /// <summary>
    /// ORT's own options for these settings, with the execution provider the device policy chose
    /// (CUDA through the V2 provider options; under <c>auto</c> CPU after one notice when CUDA
    /// cannot load), and that device. For an app that wants OnnxCnn's policy plus ORT settings of
    /// its own; the caller disposes the options after creating its session.
    /// </summary>
    public (Ort.SessionOptions Options, ExecutionDevice Device) ToOrtOptions() => Build();

    internal (Ort.SessionOptions Options, ExecutionDevice Device) Build()
    {
        if (IntraOpThreads < 0 || InterOpThreads < 0)
        {
            throw new ArgumentException($"thread counts must be >= 0 (intra-op {IntraOpThreads}, inter-op {InterOpThreads}).");
        }

        _ = OrtEnvironment.Env;
        var options = new Ort.SessionOptions();
        try
        {
            options.IntraOpNumThreads = IntraOpThreads;
            options.InterOpNumThreads = InterOpThreads;
            options.GraphOptimizationLevel = (Ort.GraphOptimizationLevel)OptimizationLevel;
            options.ExecutionMode = (Ort.ExecutionMode)ExecutionMode;
            options.EnableMemoryPattern = MemoryPattern;
            options.EnableCpuMemArena = CpuMemoryArena;
            if (LogLevel is { } level)
            {
                options.LogSeverityLevel = (Ort.OrtLoggingLevel)level;
            }

            if (ProfilingPrefix is not null)
            {
                // ORT's managed setter enables profiling with the prefix set at that moment: prefix first.
                options.ProfileOutputPathPrefix = ProfilingPrefix;
                options.EnableProfiling = true;
            }

            if (OptimizedModelPath is not null)
            {
                options.OptimizedModelFilePath = OptimizedModelPath;
            }

            foreach (var (key, value) in ConfigEntries)
            {
                options.AddSessionConfigEntry(key, value);
            }

            var device = Device.Kind == DeviceKind.Cpu ? ExecutionDevice.Cpu : CudaProvider.Append(options, Device, CudaOptions);
            return (options, device);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            options.Dispose();
            throw OrtErrors.Convert(e);
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }
}

using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>ONNX Runtime's logging severities.</summary>
public enum OrtLogLevel
{
    /// <summary>Everything.</summary>
    Verbose = 0,
    /// <summary>Informational and above.</summary>
    Info = 1,
    /// <summary>Warnings and above (the default).</summary>
    Warning = 2,
    /// <summary>Errors and above.</summary>
    Error = 3,
    /// <summary>Fatal errors only.</summary>
    Fatal = 4,
}

/// <summary>
/// The process-wide ONNX Runtime environment (one <c>OrtEnv</c> per process, as ORT requires).
/// Created on first use; set <see cref="LogLevel"/> before that to change ORT's logging.
/// </summary>
public static class OrtEnvironment
{
    private static readonly Lock Gate = new();
    private static OrtHandle? env;
    private static OrtLogLevel logLevel = OrtLogLevel.Warning;

    /// <summary>
    /// Raised for notices meant for a person (for example a fallback from CUDA to CPU under
    /// <c>auto</c>). Without a handler they go to standard error.
    /// </summary>
    public static event Action<string>? Notice;

    /// <summary>Severity of ORT's own log; effective only before the environment is created.</summary>
    public static OrtLogLevel LogLevel
    {
        get => logLevel;
        set
        {
            lock (Gate)
            {
                if (env is not null && value != logLevel)
                {
                    throw new InvalidOperationException("ONNX Runtime's environment already exists; set OrtEnvironment.LogLevel before the first session.");
                }

                logLevel = value;
            }
        }
    }

    /// <summary>The version string the loaded library reports, e.g. "1.30.0".</summary>
    public static string Version => OrtLibrary.Version;

    /// <summary>Path of the loaded <c>libonnxruntime</c>.</summary>
    public static string LibraryPath => OrtLibrary.LoadedPath;

    /// <summary>The execution providers this ORT build knows (not all may load on this machine).</summary>
    public static IReadOnlyList<string> AvailableProviders => Api.GetAvailableProviders();

    internal static OrtHandle Handle
    {
        get
        {
            if (env is not null)
            {
                return env;
            }

            lock (Gate)
            {
                return env ??= Api.CreateEnv((int)logLevel, "onnxcnn");
            }
        }
    }

    internal static void RaiseNotice(string message)
    {
        var handler = Notice;
        if (handler is null)
        {
            Console.Error.WriteLine("notice: " + message);
        }
        else
        {
            handler(message);
        }
    }
}

using OnnxCnn.Runtime.Internal;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime;

/// <summary>
/// ONNX Runtime's logging severities. A thin mapping of <see cref="Ort.OrtLoggingLevel"/> (same
/// numbers) with .NET-style names.
/// </summary>
public enum OrtLogLevel
{
    /// <summary>Everything.</summary>
    Verbose = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE,
    /// <summary>Informational and above.</summary>
    Info = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO,
    /// <summary>Warnings and above (the default).</summary>
    Warning = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
    /// <summary>Errors and above.</summary>
    Error = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    /// <summary>Fatal errors only.</summary>
    Fatal = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
}

/// <summary>
/// The process-wide ONNX Runtime environment (ORT's one <see cref="Ort.OrtEnv"/> per process).
/// Created on first use; set <see cref="LogLevel"/> before that to change ORT's logging. The
/// native library is ORT's own package's unless <c>ONNXCNN_ORT_LIBRARY</c> names another file.
/// </summary>
public static class OrtEnvironment
{
    /// <summary>The environment variable that points OnnxCnn at another <c>libonnxruntime</c>.</summary>
    public const string LibraryVariable = OrtLibrary.PathVariable;

    private static readonly Lock Gate = new();
    private static Ort.OrtEnv? env;
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

    /// <summary>The version string the loaded library reports, e.g. "1.31.0".</summary>
    public static string Version => Env.GetVersionString();

    /// <summary>Path of the loaded <c>libonnxruntime</c>.</summary>
    public static string LibraryPath
    {
        get
        {
            _ = Env;
            return OrtLibrary.LoadedPath();
        }
    }

    /// <summary>The execution providers this ORT build knows (not all may load on this machine).</summary>
    public static IReadOnlyList<string> AvailableProviders => Env.GetAvailableProviders();

    /// <summary>
    /// ORT's own environment object, for what OnnxCnn does not wrap (shared allocators, execution
    /// provider libraries, telemetry). Creating it here first applies <see cref="LogLevel"/> and
    /// <c>ONNXCNN_ORT_LIBRARY</c>.
    /// </summary>
    public static Ort.OrtEnv OrtEnv => Env;

    /// <summary>The environment; every OnnxCnn path into ORT starts here so the library choice comes first.</summary>
    internal static Ort.OrtEnv Env
    {
        get
        {
            if (env is not null)
            {
                return env;
            }

            lock (Gate)
            {
                return env ??= Create();
            }
        }
    }

    private static Ort.OrtEnv Create()
    {
        OrtLibrary.Prepare();
        try
        {
            if (Ort.OrtEnv.IsCreated)
            {
                return Ort.OrtEnv.Instance();
            }

            var options = new Ort.EnvironmentCreationOptions { logId = "onnxcnn", logLevel = (Ort.OrtLoggingLevel)logLevel };
            return Ort.OrtEnv.CreateInstanceWithOptions(ref options);
        }
        catch (Exception e) when (OrtLibrary.OverridePath is { } path && e is not OnnxRuntimeException)
        {
            // A library that is not ORT (or too old for this managed API) fails in ORT's type initializer.
            var inner = e is TypeInitializationException { InnerException: { } cause } ? cause : e;
            throw new OnnxRuntimeException(OrtErrorCode.Fail,
                $"'{path}' (from {LibraryVariable}) is not an ONNX Runtime library this version can use: {inner.Message.Split('\n')[0].Trim()}", e);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            var inner = e is TypeInitializationException { InnerException: { } cause } ? cause : e;
            throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile,
                $"the ONNX Runtime native library cannot be loaded ({inner.Message.Split('\n')[0].Trim()}); reference the Microsoft.ML.OnnxRuntime (CPU) or Microsoft.ML.OnnxRuntime.Gpu.Linux (CUDA) package in the app, or set {LibraryVariable} to a libonnxruntime file.", e);
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

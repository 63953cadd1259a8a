using System.Reflection;
using System.Runtime.InteropServices;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// Which <c>libonnxruntime</c> ORT's managed assembly binds to. By default ORT's own resolution
/// (the native package in the app's folder); when <c>ONNXCNN_ORT_LIBRARY</c> names a file, a
/// <see cref="NativeLibrary.SetDllImportResolver"/> on ORT's assembly loads that file instead.
/// Installed before ORT's first native call (its static constructor), which is why every path into
/// ORT goes through <see cref="OrtEnvironment.Env"/>.
/// </summary>
internal static class OrtLibrary
{
    public const string PathVariable = "ONNXCNN_ORT_LIBRARY";

    /// <summary>The name ORT's managed assembly imports its native library by.</summary>
    private const string OrtImportName = "onnxruntime";

    private static readonly Lock Gate = new();
    private static string? overridePath;
    private static bool prepared;

    /// <summary>The library <see cref="PathVariable"/> chose, or null for ORT's own resolution.</summary>
    public static string? OverridePath => overridePath;

    /// <summary>
    /// Validates <see cref="PathVariable"/> and, when set, installs the resolver. Idempotent; the
    /// first call decides for the process (a loaded native library cannot be swapped).
    /// </summary>
    public static void Prepare()
    {
        lock (Gate)
        {
            if (prepared)
            {
                return;
            }

            var path = Environment.GetEnvironmentVariable(PathVariable);
            if (!string.IsNullOrWhiteSpace(path))
            {
                InstallOverride(Path.GetFullPath(path));
            }

            prepared = true;
        }
    }

    private static void InstallOverride(string path)
    {
        // An explicit path that does not exist is a mistake worth stopping on, not skipping.
        if (!File.Exists(path))
        {
            throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile, $"{PathVariable} is set to '{path}', but no file is there.");
        }

        if (!NativeLibrary.TryLoad(path, out var handle))
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail, $"{PathVariable} is set to '{path}', which cannot be loaded as a native library.");
        }

        // ORT registers its own resolver in its native-methods type initializer unless told not to.
        Ort.OrtEnv.DisableDllImportResolver = true;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Ort.OrtEnv).Assembly, (name, _, _) => name == OrtImportName ? handle : 0);
        }
        catch (InvalidOperationException e)
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail,
                $"{PathVariable} is set, but this process already installed a native-library resolver for ONNX Runtime's assembly; unset {PathVariable} or drop that resolver.", e);
        }

        overridePath = path;
    }

    /// <summary>
    /// The file the loaded <c>libonnxruntime</c> came from: the override, else the mapping the
    /// process loader reports (Linux), else ORT's default probing location beside the app.
    /// </summary>
    public static string LoadedPath()
    {
        if (overridePath is not null)
        {
            return overridePath;
        }

        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/maps"))
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && Path.GetFileName(line.AsSpan(slash)).StartsWith("libonnxruntime.so", StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }

        return Path.Combine(AppContext.BaseDirectory, NativeFileName);
    }

    /// <summary>The native library's file name on this platform.</summary>
    public static string NativeFileName =>
        OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";

    /// <summary>The flavour (cpu or cuda) the entry assembly was built with, if it says.</summary>
    public static string? BuiltFlavour =>
        Assembly.GetEntryAssembly()?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "OnnxCnn.OrtFlavour")?.Value;
}

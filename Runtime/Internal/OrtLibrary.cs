using System.Reflection;
using System.Runtime.InteropServices;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// Finds and loads <c>libonnxruntime.so.1</c> and fetches its <c>OrtApi</c> function table.
/// Search order (DESIGN.md §2): <c>ONNXCNN_ORT_LIBRARY</c>, the app's
/// <c>runtimes/linux-x64/native/</c>, then the folder the build provisioned from npm.
/// </summary>
internal static unsafe class OrtLibrary
{
    public const string PathVariable = "ONNXCNN_ORT_LIBRARY";

    /// <summary>
    /// The API version we ask <c>GetApi</c> for. Every table entry we call has a minimum API at
    /// or below it (ort-c-api-order.md); 17 is also where CUDA scatter-add arrived.
    /// </summary>
    public const uint RequestedApiVersion = 17;

    private static readonly Lazy<Loaded> Instance = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static nint* Table => Instance.Value.Table;

    public static string LoadedPath => Instance.Value.Path;

    public static string Version => Instance.Value.Version;

    /// <summary>The folder the build provisions ONNX Runtime into, baked in at build time.</summary>
    public static string? ProvisionedDirectory =>
        typeof(OrtLibrary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "OnnxCnn.ProvisionedOrtDirectory")?.Value;

    /// <summary>Every place searched, in order, with what was found there.</summary>
    public static IReadOnlyList<(string Place, string? Path)> Candidates()
    {
        var list = new List<(string, string?)>();
        var fromEnv = Environment.GetEnvironmentVariable(PathVariable);
        list.Add(($"${PathVariable}", string.IsNullOrWhiteSpace(fromEnv) ? null : fromEnv));
        var appNative = System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        list.Add(("app runtimes folder", System.IO.Path.Combine(appNative, "libonnxruntime.so")));
        list.Add(("app runtimes folder", System.IO.Path.Combine(appNative, "libonnxruntime.so.1")));
        var provisioned = ProvisionedDirectory;
        list.Add(("provisioned folder", provisioned is null ? null : System.IO.Path.Combine(provisioned, "libonnxruntime.so.1")));
        return list;
    }

    private static Loaded Load()
    {
        var searched = new List<string>();
        foreach (var (place, path) in Candidates())
        {
            if (path is null)
            {
                searched.Add($"{place} (not set)");
                continue;
            }

            if (!File.Exists(path))
            {
                // An explicit path that does not exist is a mistake worth stopping on, not skipping.
                if (place.StartsWith('$'))
                {
                    throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile,
                        $"{PathVariable} is set to '{path}', but no file is there.");
                }

                searched.Add($"{path} (missing)");
                continue;
            }

            return Open(path);
        }

        throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile,
            "ONNX Runtime native library (libonnxruntime.so.1) not found. Searched: " + string.Join("; ", searched) +
            $". Provision it with 'bash build/provision.sh ort' from the OnnxCnn repository (the build runs it), or set {PathVariable} to its path.");
    }

    private static Loaded Open(string path)
    {
        nint handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail, $"cannot load ONNX Runtime from '{path}': {e.Message}");
        }

        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var getApiBase))
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail, $"'{path}' is not ONNX Runtime: it exports no OrtGetApiBase.");
        }

        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
        var apiBase = ((delegate* unmanaged<nint*>)getApiBase)();
        var version = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)apiBase[1])()) ?? "?";
        var table = ((delegate* unmanaged<uint, nint*>)apiBase[0])(RequestedApiVersion);
        if (table is null)
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail,
                $"ONNX Runtime at '{path}' is version {version}, which does not offer API version {RequestedApiVersion}; OnnxCnn needs ONNX Runtime 1.{RequestedApiVersion} or newer (it is built and tested with 1.30.0).");
        }

        return new Loaded(path, version, table);
    }

    private sealed class Loaded(string path, string version, nint* table)
    {
        public string Path { get; } = path;

        public string Version { get; } = version;

        public nint* Table { get; } = table;
    }
}

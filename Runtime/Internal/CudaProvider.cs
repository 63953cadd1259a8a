using System.Globalization;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// The CUDA half of the device policy: appends ORT's CUDA provider through the V2 provider options
/// (the legacy <c>AppendExecutionProvider_CUDA(int)</c> has no entry point in the CPU package), and
/// explains a provider that cannot load by what is missing.
/// </summary>
internal static class CudaProvider
{
    public const string ProviderName = "CUDAExecutionProvider";
    public const string ProviderLibrary = "libonnxruntime_providers_cuda.so";

    /// <summary>The V2 option set for <paramref name="device"/>: the caller's keys plus <c>device_id</c>.</summary>
    public static Dictionary<string, string> Settings(ExecutionDevice device, IDictionary<string, string> extra) =>
        new(extra, StringComparer.Ordinal) { ["device_id"] = device.Id.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Appends CUDA for <c>cuda</c>/<c>auto</c>; returns the device the session will run on.</summary>
    public static ExecutionDevice Append(Ort.SessionOptions options, ExecutionDevice device, IDictionary<string, string> extra)
    {
        try
        {
            using var cuda = new Ort.OrtCUDAProviderOptions();
            cuda.UpdateOptions(Settings(device, extra));
            options.AppendExecutionProvider_CUDA(cuda);
            return new ExecutionDevice(DeviceKind.Cuda, device.Id);
        }
        catch (Exception e) when (e is Ort.OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var why = Explain(OrtErrors.Split(e.Message).Message, OrtEnvironment.LibraryPath, OrtEnvironment.AvailableProviders);
            if (device.Kind == DeviceKind.Auto)
            {
                OrtEnvironment.RaiseNotice($"CUDA is not available ({why}); running on CPU.");
                return ExecutionDevice.Cpu;
            }

            var code = e is Ort.OnnxRuntimeException ? OrtErrors.Split(e.Message).Code : OrtErrorCode.Fail;
            throw new OnnxRuntimeException(code, $"CUDA execution provider (device {device}) could not be loaded: {why}", e);
        }
    }

    /// <summary>Why CUDA did not load, naming the missing piece and how to get it.</summary>
    public static string Explain(string ortMessage, string libraryPath, IReadOnlyList<string> providers)
    {
        if (!providers.Contains(ProviderName))
        {
            return $"this ONNX Runtime build ({libraryPath}) has no CUDA execution provider (it is the CPU package Microsoft.ML.OnnxRuntime); "
                + "build OnnxCnn with -p:OnnxCnnOrt=cuda, or reference Microsoft.ML.OnnxRuntime.Gpu.Linux instead of Microsoft.ML.OnnxRuntime in the app (CUDA 13, cuDNN 9)";
        }

        var provider = Path.Combine(Path.GetDirectoryName(libraryPath) ?? ".", ProviderLibrary);
        return ExplainProvider(provider, ortMessage);
    }

    /// <summary>The explanation for a CUDA build whose provider library is at <paramref name="provider"/>.</summary>
    public static string ExplainProvider(string provider, string ortMessage)
    {
        var firstLine = ortMessage.Split('\n')[0].Trim();
        if (!File.Exists(provider))
        {
            return $"{ProviderLibrary} is not beside the ONNX Runtime library (expected {provider}); ONNX Runtime said: {firstLine}";
        }

        string? missing;
        try
        {
            missing = ElfNeeded.FirstUnloadable(provider);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentOutOfRangeException)
        {
            missing = null;
        }

        return missing is not null
            ? $"{missing} cannot be loaded (needed by {ProviderLibrary}); install the CUDA 13 runtime (libcublasLt.so.13, libcublas.so.13, libcudart.so.13, libcurand.so.10) and cuDNN 9, or add their folder to LD_LIBRARY_PATH"
            : $"ONNX Runtime said: {firstLine} (check cuDNN 9 and the NVIDIA driver)";
    }
}

using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Internal;

/// <summary>ORT memory descriptions for device memory.</summary>
internal static class DeviceMemory
{
    /// <summary>CUDA device memory on <paramref name="deviceId"/> (the name ORT's CUDA provider registers its allocators under).</summary>
    public static Ort.OrtMemoryInfo Cuda(int deviceId, Ort.OrtAllocatorType allocatorType) =>
        OrtErrors.Call(() => new Ort.OrtMemoryInfo(Ort.OrtMemoryInfo.allocatorCUDA, allocatorType, deviceId, Ort.OrtMemType.Default));
}

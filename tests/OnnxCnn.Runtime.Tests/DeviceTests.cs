using OnnxCnn.Runtime.Internal;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

public class DeviceTests
{
    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("CUDA", DeviceKind.Cuda, 0)]
    [InlineData("cuda:3", DeviceKind.Cuda, 3)]
    [InlineData(" auto ", DeviceKind.Auto, 0)]
    public void Parse_ValidText_GivesDevice(string text, DeviceKind kind, int id)
    {
        Assert.Equal(new ExecutionDevice(kind, id), ExecutionDevice.Parse(text));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    public void Parse_InvalidText_NamesChoices(string text)
    {
        var e = Assert.Throws<FormatException>(() => ExecutionDevice.Parse(text));
        Assert.Equal($"device '{text}' is not one of cpu, cuda, cuda:N, auto.", e.Message);
    }

    [Fact]
    public void Cuda_OnTheCpuPackage_IsErrorSayingTheBuildHasNoCudaAndHowToGetIt()
    {
        if (OrtFlavour.Built != "cpu")
        {
            return; // the cuda flavour is covered by Cuda_OnTheCudaPackage_LoadsOrNamesTheMissingLibrary
        }

        var e = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.FromBytes(Models.AddSelf(), new SessionOptions { Device = ExecutionDevice.Cuda }));
        Assert.Equal(
            $"CUDA execution provider (device cuda) could not be loaded: this ONNX Runtime build ({OrtEnvironment.LibraryPath}) has no CUDA execution provider (it is the CPU package Microsoft.ML.OnnxRuntime); "
            + "build OnnxCnn with -p:OnnxCnnOrt=cuda, or reference Microsoft.ML.OnnxRuntime.Gpu.Linux instead of Microsoft.ML.OnnxRuntime in the app (CUDA 13, cuDNN 9)",
            e.Message);
    }

    [Fact]
    public void Cuda_OnTheCudaPackage_LoadsOrNamesTheMissingLibrary()
    {
        if (OrtFlavour.Built != "cuda")
        {
            return; // the cpu flavour is covered by Cuda_OnTheCpuPackage_IsErrorSayingTheBuildHasNoCudaAndHowToGetIt
        }

        var provider = Path.Combine(Path.GetDirectoryName(OrtEnvironment.LibraryPath)!, CudaProvider.ProviderLibrary);
        var missing = ElfNeeded.FirstUnloadable(provider);
        try
        {
            using var session = InferenceSession.FromBytes(Models.AddSelf(), new SessionOptions { Device = ExecutionDevice.Cuda });
            Assert.Null(missing);
            Assert.Equal(ExecutionDevice.Cuda, session.Device);
        }
        catch (OnnxRuntimeException e) when (missing is not null)
        {
            Assert.StartsWith($"CUDA execution provider (device cuda) could not be loaded: {missing} cannot be loaded (needed by libonnxruntime_providers_cuda.so)", e.Message);
        }
    }

    [Fact]
    public void Auto_WithoutCuda_FallsBackToCpuWithOneNotice()
    {
        if (OrtEnvironment.AvailableProviders.Contains(CudaProvider.ProviderName) && CudaLoads())
        {
            return; // on a CUDA machine auto picks CUDA; the GPU checks cover that
        }

        var notices = new List<string>();
        void Handler(string m) => notices.Add(m);
        OrtEnvironment.Notice += Handler;
        try
        {
            using var session = InferenceSession.FromBytes(Models.AddSelf(), new SessionOptions { Device = ExecutionDevice.Auto });
            Assert.Equal(ExecutionDevice.Cpu, session.Device);
            using var x = Tensor<float>.FromSpan([1, 2, 3], 1, 3);
            using var r = session.Run(x);
            Assert.Equal([2f, 4, 6], r.First<float>().ToArray());
        }
        finally
        {
            OrtEnvironment.Notice -= Handler;
        }

        var notice = Assert.Single(notices);
        Assert.StartsWith("CUDA is not available (", notice);
        Assert.EndsWith("; running on CPU.", notice);
    }

    [Fact]
    public void CudaSettings_CarryDeviceIdAndTheCallersV2Keys()
    {
        var extra = new Dictionary<string, string> { ["cudnn_conv_algo_search"] = "HEURISTIC", ["device_id"] = "7" };
        var settings = CudaProvider.Settings(new ExecutionDevice(DeviceKind.Cuda, 2), extra);
        Assert.Equal("2", settings["device_id"]); // the device comes from ExecutionDevice, never from the extras
        Assert.Equal("HEURISTIC", settings["cudnn_conv_algo_search"]);
        Assert.Equal(2, settings.Count);
    }

    [Fact]
    public void ExplainProvider_ProviderLibraryAbsent_SaysWhereItWasExpected()
    {
        var why = CudaProvider.ExplainProvider("/nonexistent/libonnxruntime_providers_cuda.so", "Failed to load\nmore");
        Assert.Equal("libonnxruntime_providers_cuda.so is not beside the ONNX Runtime library (expected /nonexistent/libonnxruntime_providers_cuda.so); ONNX Runtime said: Failed to load", why);
    }

    [Fact]
    public void ExplainProvider_NeededCudaLibraryMissing_NamesIt()
    {
        using var dir = new TempDir();
        var provider = Path.Combine(dir.Path, CudaProvider.ProviderLibrary);
        File.WriteAllBytes(provider, ElfFixture.SharedLibrary("libc.so.6", "libcublasLt.so.13", "libcudart.so.13"));
        var why = CudaProvider.ExplainProvider(provider, "ignored");
        Assert.StartsWith("libcublasLt.so.13 cannot be loaded (needed by libonnxruntime_providers_cuda.so); install the CUDA 13 runtime", why);
    }

    [Fact]
    public void ExplainProvider_EveryNeededLibraryLoads_QuotesOrt()
    {
        using var dir = new TempDir();
        var provider = Path.Combine(dir.Path, CudaProvider.ProviderLibrary);
        File.WriteAllBytes(provider, ElfFixture.SharedLibrary("libc.so.6"));
        Assert.Equal("ONNX Runtime said: no cuDNN (check cuDNN 9 and the NVIDIA driver)", CudaProvider.ExplainProvider(provider, "no cuDNN"));
    }

    private static bool CudaLoads()
    {
        var provider = Path.Combine(Path.GetDirectoryName(OrtEnvironment.LibraryPath)!, CudaProvider.ProviderLibrary);
        return File.Exists(provider) && ElfNeeded.FirstUnloadable(provider) is null;
    }
}

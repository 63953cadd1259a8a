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
    public void Cuda_WithoutProviderLibraries_IsErrorNamingCudaAndWhatIsMissing()
    {
        if (CudaLibrariesPresent())
        {
            return; // on a CUDA machine this path is exercised by the GPU checks instead
        }

        var e = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.FromBytes(Models.AddSelf(), new SessionOptions { Device = ExecutionDevice.Cuda }));
        Assert.StartsWith("CUDA execution provider (device cuda) could not be loaded:", e.Message);
        Assert.Contains("libonnxruntime_providers_cuda.so", e.Message);
    }

    [Fact]
    public void Auto_WithoutCuda_FallsBackToCpuWithOneNotice()
    {
        if (CudaLibrariesPresent())
        {
            return;
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

    private static bool CudaLibrariesPresent() =>
        File.Exists(Path.Combine(Path.GetDirectoryName(OrtEnvironment.LibraryPath)!, "libonnxruntime_providers_cuda.so"));
}

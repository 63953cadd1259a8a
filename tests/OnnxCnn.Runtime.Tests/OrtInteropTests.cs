using OnnxCnn.Runtime.Internal;
using OnnxCnn.TestUtilities;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Tests;

/// <summary>ORT's own objects where an app wants them, and ORT's errors as OnnxCnn's.</summary>
public class OrtInteropTests
{
    [Fact]
    public void Open_WithOrtsOwnOptions_RunsAndReportsCpu()
    {
        using var dir = new TempDir();
        var path = dir.File("m.onnx");
        File.WriteAllBytes(path, Models.AddSelf());
        using var ortOptions = new Ort.SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = Ort.GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = InferenceSession.Open(path, ortOptions);
        Assert.Equal(ExecutionDevice.Cpu, session.Device);
        using var x = Tensor<float>.FromSpan([1, 2, 3], 1, 3);
        using var r = session.Run(x);
        Assert.Equal([2f, 4, 6], r.First<float>().ToArray());
        Assert.False(ortOptions.IsInvalid); // the options stay the caller's
    }

    [Fact]
    public void FromBytes_WithOrtsOwnOptions_ExposesOrtsSession()
    {
        using var ortOptions = new Ort.SessionOptions();
        using var session = InferenceSession.FromBytes(Models.AddSelf(), ortOptions);
        Assert.Equal(session.Inputs.Select(i => i.Name), session.OrtSession.InputNames);
        Assert.Equal(session.Outputs.Select(o => o.Name), session.OrtSession.OutputNames);
    }

    [Fact]
    public void ToOrtOptions_CarriesEverySetting()
    {
        var options = new SessionOptions
        {
            IntraOpThreads = 3,
            InterOpThreads = 2,
            OptimizationLevel = GraphOptimizationLevel.Basic,
            ExecutionMode = ExecutionMode.Parallel,
            MemoryPattern = false,
            CpuMemoryArena = false,
            LogLevel = OrtLogLevel.Error,
        };
        var (ort, device) = options.ToOrtOptions();
        using (ort)
        {
            Assert.Equal(ExecutionDevice.Cpu, device);
            Assert.Equal(3, ort.IntraOpNumThreads);
            Assert.Equal(2, ort.InterOpNumThreads);
            Assert.Equal(Ort.GraphOptimizationLevel.ORT_ENABLE_BASIC, ort.GraphOptimizationLevel);
            Assert.Equal(Ort.ExecutionMode.ORT_PARALLEL, ort.ExecutionMode);
            Assert.False(ort.EnableMemoryPattern);
            Assert.False(ort.EnableCpuMemArena);
            Assert.Equal(Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, ort.LogSeverityLevel);
        }
    }

    [Fact]
    public void TensorOrtValue_IsOrtsValueOverTheSameMemory()
    {
        using var t = Tensor<float>.FromSpan([1, 2, 3, 4, 5, 6], 2, 3);
        var value = t.OrtValue;
        Assert.True(value.IsTensor);
        Assert.Equal([2L, 3], value.GetTensorTypeAndShape().Shape);
        value.GetTensorMutableDataAsSpan<float>()[4] = 50;
        Assert.Equal(50, t[4]);
    }

    [Fact]
    public void IoBinding_ExposesOrtsBinding()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var binding = session.CreateIoBinding();
        using var x = Tensor<float>.FromSpan([1, 2, 3], 1, 3);
        binding.BindInput(session.Inputs[0].Name, x);
        binding.OrtBinding.BindOutputToDevice(session.Outputs[0].Name, Ort.OrtMemoryInfo.DefaultInstance);
        binding.Run();
        using var outputs = binding.GetOutputs();
        Assert.Equal([2f, 4, 6], outputs[0].Value.As<float>().ToArray());
    }

    [Fact]
    public void CudaMemoryInfo_ForTheBindingPlan_NamesCudaDeviceMemory()
    {
        // What BindOutputToDevice and DeviceAllocator hand ORT for cuda:1, short of a CUDA kernel.
        using var info = DeviceMemory.Cuda(1, Ort.OrtAllocatorType.DeviceAllocator);
        Assert.Equal("Cuda", info.Name);
        Assert.Equal(1, info.Id);
        Assert.Equal(Ort.OrtMemoryInfoDeviceType.GPU, info.GetDeviceType());
        Assert.Equal(Ort.OrtMemType.Default, info.GetMemoryType());
    }

    [Theory]
    [InlineData("[ErrorCode:InvalidArgument] bad shape", OrtErrorCode.InvalidArgument, "bad shape")]
    [InlineData("[ErrorCode:RuntimeException] Exiting due to terminate flag", OrtErrorCode.RuntimeException, "Exiting due to terminate flag")]
    [InlineData("no prefix at all", OrtErrorCode.Fail, "no prefix at all")]
    public void OrtErrors_Split_ReadsTheCodeFromOrtsMessage(string message, OrtErrorCode code, string rest)
    {
        Assert.Equal((code, rest), OrtErrors.Split(message));
    }

    [Fact]
    public void LogLevel_AfterTheEnvironmentExists_CannotChange()
    {
        _ = OrtEnvironment.OrtEnv;
        var other = OrtEnvironment.LogLevel == OrtLogLevel.Fatal ? OrtLogLevel.Error : OrtLogLevel.Fatal;
        var e = Assert.Throws<InvalidOperationException>(() => OrtEnvironment.LogLevel = other);
        Assert.Contains("set OrtEnvironment.LogLevel before the first session", e.Message);
    }
}

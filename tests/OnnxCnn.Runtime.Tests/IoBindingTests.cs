using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

public class IoBindingTests
{
    [Fact]
    public void Binding_PreallocatedOutput_RunsRepeatedlyInPlace()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var binding = session.CreateIoBinding();
        var input = new float[] { 1, 2, 3 };
        var output = new float[3];
        using var x = Tensor<float>.Wrap(input, 1, 3);
        using var y = Tensor<float>.Wrap(output, 1, 3);
        binding.BindInput("X", x);
        binding.BindOutput("Y", y);
        binding.Run();
        Assert.Equal([2f, 4, 6], output);
        input[2] = 10;
        binding.Run();
        Assert.Equal(20f, output[2]);
    }

    [Fact]
    public void Binding_OutputToCpuDevice_IsAllocatedByOrt()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var binding = session.CreateIoBinding();
        using var x = SessionTests.RandomImage(3);
        binding.BindInput("image", x);
        binding.BindOutputToDevice("logits", ExecutionDevice.Cpu);
        binding.Run();
        binding.SynchronizeOutputs();
        using var outputs = binding.GetOutputs();
        var (name, logits) = Assert.Single(outputs);
        Assert.Equal("logits", name);
        Assert.Equal([3L, 5], logits.Shape);
        Assert.True(logits.IsOnHost);
        using var direct = session.Run(x);
        Assert.Equal(direct.First<float>().ToArray(), logits.As<float>().ToArray());
    }

    [Fact]
    public void Binding_WrongInputShape_IsNamed()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var binding = session.CreateIoBinding();
        using var x = Tensor<float>.Create(1, 3, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => binding.BindInput("image", x));
        Assert.Equal("input 'image' expects float32[batch,3,16,16], got float32[1,3,8,8].", e.Message);
    }

    [Fact]
    public void Binding_CancelledToken_Throws()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var binding = session.CreateIoBinding();
        using var x = Tensor<float>.Create(1, 3);
        binding.BindInput("X", x);
        binding.BindOutputToDevice("Y", ExecutionDevice.Cpu);
        Assert.ThrowsAny<OperationCanceledException>(() => binding.Run(new CancellationToken(true)));
    }

    [Fact]
    public void Binding_GetOutputsByName_WrapsOnlyThoseNamed()
    {
        // Two outputs: Y = X + X bound to a preallocated tensor (stays bound), Z fetched by name.
        var model = new ModelBuilder()
            .Input("X", OnnxCnn.Graphs.Proto.TensorProto.Types.DataType.Float, "N", 3)
            .Node("Add", ["X", "X"], ["Y"])
            .Node("Mul", ["X", "X"], ["Z"])
            .Output("Y", OnnxCnn.Graphs.Proto.TensorProto.Types.DataType.Float, "N", 3)
            .Output("Z", OnnxCnn.Graphs.Proto.TensorProto.Types.DataType.Float, "N", 3)
            .ToBytes();
        using var session = InferenceSession.FromBytes(model);
        using var binding = session.CreateIoBinding();
        using var x = Tensor<float>.FromSpan([1f, 2, 3], 1, 3);
        using var y = Tensor<float>.Create(1, 3);
        binding.BindInput("X", x);
        binding.BindOutput("Y", y);
        binding.BindOutputToDevice("Z", ExecutionDevice.Cpu);
        binding.Run();
        using var outputs = binding.GetOutputs(["Z"]);
        var (name, z) = Assert.Single(outputs);
        Assert.Equal("Z", name);
        Assert.Equal([1f, 4, 9], z.As<float>().ToArray());
        Assert.Equal([2f, 4, 6], y.ToArray());
        using var none = binding.GetOutputs([]);
        Assert.Empty(none);
    }

    [Fact]
    public void DeviceAllocator_OnCpu_GivesHostTensorsThatBindAsOutputs()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var allocator = new DeviceAllocator(session);
        Assert.True(allocator.IsHost);
        Assert.Equal(ExecutionDevice.Cpu, allocator.Device);
        using var x = Tensor<float>.FromSpan([1f, -2, 3], 1, 3);
        using var y = allocator.Allocate<float>(1, 3);
        Assert.True(y.IsOnHost);
        Assert.Equal([1L, 3], y.Shape);
        using var binding = session.CreateIoBinding();
        binding.BindInput("X", x);
        binding.BindOutput("Y", y);
        binding.Run();
        Assert.Equal([2f, -4, 6], y.ToArray());
    }
}

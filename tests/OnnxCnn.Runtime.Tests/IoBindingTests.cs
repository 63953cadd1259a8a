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
}

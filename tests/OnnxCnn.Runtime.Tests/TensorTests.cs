using System.Diagnostics;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

public class TensorTests
{
    [Fact]
    public unsafe void Wrap_OrtValue_PointsAtTheCallersArray()
    {
        var data = new float[12];
        using var t = Tensor<float>.Wrap(data, 3, 4);
        fixed (float* ortData = t.OrtValue.GetTensorMutableDataAsSpan<float>())
        fixed (float* p = data)
        {
            Assert.Equal((nint)p, (nint)ortData);
        }
    }

    [Fact]
    public unsafe void Create_OrtValue_PointsAtPooledMemory()
    {
        using var t = Tensor<float>.Create(2, 5);
        fixed (float* ortData = t.OrtValue.GetTensorMutableDataAsSpan<float>())
        fixed (float* p = t.Span)
        {
            Assert.Equal((nint)p, (nint)ortData);
        }
    }

    [Fact]
    public void Wrap_MutatedAfterFirstRun_NextRunSeesNewValues()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        var data = new float[] { 1, 2, 3 };
        using var x = Tensor<float>.Wrap(data, 1, 3);
        using (var r = session.Run(x))
        {
            Assert.Equal(2f, r.First<float>()[0]);
        }

        data[0] = 50;
        using var r2 = session.Run(x);
        Assert.Equal(100f, r2.First<float>()[0]);
    }

    [Fact]
    public void Dispose_Twice_IsHarmless_AndUseAfterDisposeThrows()
    {
        var t = Tensor<float>.Create(4);
        t.Dispose();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Span.Length);
    }

    [Fact]
    public void Shape_Negative_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor<float>.Create(2, -1));
        Assert.Contains("negative dimension", e.Message);
    }

    [Fact]
    public void Wrap_TooSmallArray_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor<float>.Wrap(new float[5], 2, 3));
        Assert.Equal("array of 5 elements is too small for shape [2,3] (6 elements).", e.Message);
    }

    [Fact]
    public void Bool_AndInt_Tensors_RoundTripThroughOrt()
    {
        var bytes = new ModelBuilder()
            .Input("A", Graphs.Proto.TensorProto.Types.DataType.Int64, 3)
            .Input("B", Graphs.Proto.TensorProto.Types.DataType.Int64, 3)
            .Node("Greater", ["A", "B"], ["C"])
            .Output("C", Graphs.Proto.TensorProto.Types.DataType.Bool, 3)
            .ToBytes();
        using var session = InferenceSession.FromBytes(bytes);
        using var a = Tensor<long>.FromSpan([1, 5, 3], 3);
        using var b = Tensor<long>.Wrap([2, 4, 3], 3);
        using var r = session.Run([new("A", a), new("B", b)]);
        Assert.Equal([false, true, false], r.First<bool>().ToArray());
    }
}

/// <summary>
/// The memory of many tensors, measured for the whole process: it runs alone (other classes allocating beside it
/// made it read 76 MiB of their garbage as its own growth in a CI run).
/// </summary>
[Collection(SoakCollection.Name)]
public class TensorMemoryTests
{
    [Fact]
    public void Tensors_10kCreatedAndDisposed_MemoryStaysFlat()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        void Cycle(int n)
        {
            for (var i = 0; i < n; i++)
            {
                using var t = Tensor<float>.Create(1, 3, 224, 224);
                _ = t.OrtValue; // native OrtValue over the pooled memory
                using var small = Tensor<float>.Create(1, 3);
                using var r = session.Run(small);
            }
        }

        Cycle(500);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var nativeBefore = Process.GetCurrentProcess().PrivateMemorySize64;
        Cycle(10_000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var managedAfter = GC.GetTotalMemory(forceFullCollection: true);
        var nativeAfter = Process.GetCurrentProcess().PrivateMemorySize64;
        Assert.True(managedAfter - managedBefore < 16 << 20, $"managed memory grew by {(managedAfter - managedBefore) >> 20} MiB");
        Assert.True(nativeAfter - nativeBefore < 64 << 20, $"process memory grew by {(nativeAfter - nativeBefore) >> 20} MiB");
    }
}

using OnnxCnn.Runtime.Internal;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime;

/// <summary>
/// Allocates tensors on the device a session runs on, so that values bound to an
/// <see cref="IoBinding"/> stay there between runs (training parameters and optimiser state on a
/// GPU). On the CPU the tensors are pooled pinned host memory, readable through their spans.
/// Dispose the tensors before the allocator.
/// </summary>
public sealed class DeviceAllocator : IDisposable
{
    private readonly Ort.OrtAllocator? allocator;

    /// <summary>An allocator for <paramref name="session"/>'s device (<see cref="InferenceSession.Device"/>).</summary>
    public DeviceAllocator(InferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        Device = session.Device;
        if (Device.Kind == DeviceKind.Cuda)
        {
            // The session's own CUDA allocator (its arena), found by the device in the memory info.
            using var info = DeviceMemory.Cuda(Device.Id, Ort.OrtAllocatorType.ArenaAllocator);
            allocator = OrtErrors.Call(() => new Ort.OrtAllocator(session.OrtSession, info));
        }
    }

    /// <summary>The device tensors are allocated on.</summary>
    public ExecutionDevice Device { get; }

    /// <summary>True when the tensors live in host memory (their spans can be read and written).</summary>
    public bool IsHost => allocator is null;

    /// <summary>A tensor on the device, contents unspecified.</summary>
    public Tensor<T> Allocate<T>(params long[] shape)
        where T : unmanaged
    {
        if (allocator is null)
        {
            return Tensor<T>.Create(shape);
        }

        var value = OrtErrors.Call(() => Ort.OrtValue.CreateAllocatedTensorValue(allocator, (Ort.Tensors.TensorElementType)TensorElementTypes.Of<T>(), shape));
        return OrtValues.ToTensor(value, "device tensor").As<T>();
    }

    /// <summary>Releases the allocator (after every tensor it allocated).</summary>
    public void Dispose() => allocator?.Dispose();
}

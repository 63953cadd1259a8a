using System.Runtime.InteropServices;
using OnnxCnn.Runtime.Internal;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime;

/// <summary>
/// A dense, C-ordered tensor. Its memory is either a pooled pinned managed array, a caller's
/// array (pinned while the tensor lives), or ORT-owned memory of a run's output (possibly on a
/// device). Handing a tensor to ORT never copies it: an OrtValue is created over its memory once.
/// Dispose tensors you create; the pool reuses their memory.
/// </summary>
public abstract class Tensor : IDisposable
{
    private readonly long[] shape;
    private Ort.OrtValue? ortValue;
    private bool disposed;

    private protected Tensor(TensorElementType elementType, long[] shape)
    {
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"tensor shape [{string.Join(',', shape)}] has a negative dimension.");
            }
        }

        ElementType = elementType;
        this.shape = shape;
        ElementCount = ShapeSize(shape);
    }

    /// <summary>The element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The dimensions (a copy is not made; do not modify).</summary>
    public IReadOnlyList<long> Shape => shape;

    /// <summary>Number of elements (product of the dimensions).</summary>
    public long ElementCount { get; }

    /// <summary>Number of bytes of data.</summary>
    public long ByteLength => ElementCount * ElementType.SizeOf();

    /// <summary>Where the data lives: "Cpu", or an ORT device name such as "Cuda" for outputs kept on a device.</summary>
    public virtual string Location => "Cpu";

    /// <summary>The device id of <see cref="Location"/>.</summary>
    public virtual int DeviceId => 0;

    /// <summary>True when the data is in host memory and can be read through a span.</summary>
    public virtual bool IsOnHost => true;

    /// <summary>The shape as text, e.g. <c>[1,3,224,224]</c>.</summary>
    public string ShapeText => FormatShape(shape);

    internal long[] ShapeArray => shape;

    /// <summary>Product of the dimensions.</summary>
    public static long ShapeSize(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }

        return n;
    }

    /// <summary>A shape as text, e.g. <c>[1,3,224,224]</c>.</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(',', shape) + "]";

    /// <summary>A pooled float32 tensor of the given shape (contents unspecified).</summary>
    public static Tensor<float> Create(params long[] shape) => Tensor<float>.Create(shape);

    /// <summary>A pooled tensor of a runtime-chosen element type (contents unspecified).</summary>
    public static Tensor Create(TensorElementType type, params long[] shape) => type switch
    {
        TensorElementType.Float32 => Tensor<float>.Create(shape),
        TensorElementType.Float64 => Tensor<double>.Create(shape),
        TensorElementType.Float16 => Tensor<Half>.Create(shape),
        TensorElementType.Int64 => Tensor<long>.Create(shape),
        TensorElementType.Int32 => Tensor<int>.Create(shape),
        TensorElementType.Int16 => Tensor<short>.Create(shape),
        TensorElementType.Int8 => Tensor<sbyte>.Create(shape),
        TensorElementType.UInt8 => Tensor<byte>.Create(shape),
        TensorElementType.UInt16 => Tensor<ushort>.Create(shape),
        TensorElementType.UInt32 => Tensor<uint>.Create(shape),
        TensorElementType.UInt64 => Tensor<ulong>.Create(shape),
        TensorElementType.Bool => Tensor<bool>.Create(shape),
        _ => throw new NotSupportedException($"tensors of {type.Name()} are not supported (numeric and bool element types are)."),
    };

    /// <summary>The tensor as <see cref="Tensor{T}"/>; an exception naming both types if it is not.</summary>
    public Tensor<T> As<T>()
        where T : unmanaged =>
        this as Tensor<T> ?? throw new InvalidCastException($"tensor is {ElementType.Name()}, not {TensorElementTypes.Of<T>().Name()}.");

    /// <summary>Raw bytes of host data.</summary>
    public abstract Span<byte> Bytes { get; }

    /// <summary>
    /// ORT's own value for this tensor, created over its memory on first use (no copy), for apps
    /// that call ORT's API directly. The tensor owns it: do not dispose it, and do not use it after
    /// the tensor is disposed.
    /// </summary>
    public Ort.OrtValue OrtValue
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (ortValue is null)
            {
                var created = CreateOrtValue();
                if (Interlocked.CompareExchange(ref ortValue, created, null) is not null)
                {
                    created.Dispose();
                }
            }

            return ortValue!;
        }
    }

    private protected abstract Ort.OrtValue CreateOrtValue();

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    /// <summary>Releases the OrtValue and returns pooled memory.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        // An ORT-owned output's value is released by ReleaseMemory; ours (over our memory) here.
        if (!OwnsNativeValue)
        {
            ortValue?.Dispose();
        }

        ReleaseMemory();
        GC.SuppressFinalize(this);
    }

    private protected abstract void ReleaseMemory();

    /// <summary>True when the memory is ORT's (the OrtValue is the owner, released with the memory).</summary>
    private protected abstract bool OwnsNativeValue { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{ElementType.Name()}{ShapeText}";
}

/// <summary>A dense tensor of <typeparamref name="T"/> elements.</summary>
/// <typeparam name="T">float, double, long, int, byte, sbyte, short, ushort, uint, ulong, bool or Half.</typeparam>
public sealed unsafe class Tensor<T> : Tensor
    where T : unmanaged
{
    private T[]? array;
    private readonly bool pooled;
    private GCHandle pin;
    private readonly void* native;
    private readonly Ort.OrtValue? nativeOwner;
    private readonly string location = "Cpu";
    private readonly int deviceId;
    private readonly bool onHost = true;

    private Tensor(long[] shape, T[] array, bool pooled)
        : base(TensorElementTypes.Of<T>(), shape)
    {
        if (array.LongLength < ElementCount)
        {
            throw new ArgumentException($"array of {array.LongLength} elements is too small for shape {ShapeText} ({ElementCount} elements).");
        }

        this.array = array;
        this.pooled = pooled;
    }

    internal Tensor(long[] shape, Ort.OrtValue value, void* data, string location, int deviceId, bool onHost)
        : base(TensorElementTypes.Of<T>(), shape)
    {
        native = data;
        nativeOwner = value;
        this.location = location;
        this.deviceId = deviceId;
        this.onHost = onHost;
    }

    /// <inheritdoc/>
    public override bool IsOnHost => onHost;

    /// <inheritdoc/>
    public override string Location => location;

    /// <inheritdoc/>
    public override int DeviceId => deviceId;

    /// <summary>A tensor over pooled pinned memory; its contents are unspecified until written.</summary>
    public static new Tensor<T> Create(params long[] shape)
    {
        var count = ShapeSize(shape);
        if (count > Array.MaxLength)
        {
            throw new ArgumentException($"tensor shape {FormatShape(shape)} has {count} elements, more than one array holds.");
        }

        return new Tensor<T>(shape, PinnedArrayPool<T>.Rent((int)count), pooled: true);
    }

    /// <summary>A tensor over pooled memory, filled with <paramref name="value"/>.</summary>
    public static Tensor<T> Filled(T value, params long[] shape)
    {
        var t = Create(shape);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>A pooled tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor<T> FromSpan(ReadOnlySpan<T> data, params long[] shape)
    {
        var t = Create(shape);
        if (data.Length != t.ElementCount)
        {
            t.Dispose();
            throw new ArgumentException($"{data.Length} values do not fill shape {FormatShape(shape)} ({ShapeSize(shape)} elements).");
        }

        data.CopyTo(t.Span);
        return t;
    }

    /// <summary>A tensor over the caller's array, without copying; the array is pinned while the tensor lives.</summary>
    public static Tensor<T> Wrap(T[] data, params long[] shape) => new(shape, data, pooled: false);

    /// <summary>The elements, in C order. Throws for data that lives on a device.</summary>
    public Span<T> Span
    {
        get
        {
            ThrowIfDisposed();
            if (array is not null)
            {
                return array.AsSpan(0, (int)ElementCount);
            }

            if (!IsOnHost)
            {
                throw new InvalidOperationException($"tensor data lives on {Location}:{DeviceId}; copy it to the host first.");
            }

            return new Span<T>(native, (int)ElementCount);
        }
    }

    /// <inheritdoc/>
    public override Span<byte> Bytes => MemoryMarshal.AsBytes(Span);

    /// <summary>Element at a flat (C-order) index.</summary>
    public T this[long index]
    {
        get => Span[checked((int)index)];
        set => Span[checked((int)index)] = value;
    }

    /// <summary>A copy of the elements as an array.</summary>
    public T[] ToArray() => Span.ToArray();

    private protected override Ort.OrtValue CreateOrtValue()
    {
        if (nativeOwner is not null)
        {
            return nativeOwner;
        }

        void* data;
        if (pooled)
        {
            data = PinnedArrayPool<T>.AddressOf(array!);
        }
        else
        {
            pin = GCHandle.Alloc(array, GCHandleType.Pinned);
            data = (void*)pin.AddrOfPinnedObject();
        }

        // OrtEnvironment.Env first: the library choice (ONNXCNN_ORT_LIBRARY) precedes ORT's first native call.
        _ = OrtEnvironment.Env;
        var address = (nint)data;
        return OrtErrors.Call(() => Ort.OrtValue.CreateTensorValueWithData(
            Ort.OrtMemoryInfo.DefaultInstance, (Ort.Tensors.TensorElementType)ElementType, ShapeArray, address, ByteLength));
    }

    private protected override bool OwnsNativeValue => nativeOwner is not null;

    private protected override void ReleaseMemory()
    {
        nativeOwner?.Dispose();
        if (pin.IsAllocated)
        {
            pin.Free();
        }

        if (pooled && array is not null)
        {
            PinnedArrayPool<T>.Return(array);
        }

        array = null;
    }
}

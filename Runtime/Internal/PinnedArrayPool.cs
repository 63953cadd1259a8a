using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// A pool of arrays on the pinned object heap, bucketed by power-of-two length. Pinned arrays
/// never move, so ORT can read and write them through an OrtValue without a GCHandle, and
/// reusing them keeps memory flat when tensors are created and disposed in a loop.
/// </summary>
internal static class PinnedArrayPool<T>
    where T : unmanaged
{
    private const int MaxPerBucket = 32;
    private static readonly ConcurrentBag<T[]>[] Buckets = CreateBuckets();

    private static ConcurrentBag<T[]>[] CreateBuckets()
    {
        var buckets = new ConcurrentBag<T[]>[32];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = [];
        }

        return buckets;
    }

    public static T[] Rent(int length)
    {
        var bucket = BucketOf(length);
        if (bucket >= 31)
        {
            return GC.AllocateUninitializedArray<T>(length, pinned: true);
        }

        if (Buckets[bucket].TryTake(out var array))
        {
            return array;
        }

        return GC.AllocateUninitializedArray<T>(1 << bucket, pinned: true);
    }

    public static void Return(T[] array)
    {
        var bucket = BucketOf(array.Length);
        if (bucket < 31 && array.Length == 1 << bucket && Buckets[bucket].Count < MaxPerBucket)
        {
            Buckets[bucket].Add(array);
        }
    }

    public static unsafe void* AddressOf(T[] array) => Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));

    private static int BucketOf(int length) => length <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(length - 1));
}

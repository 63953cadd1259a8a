using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>SIMD kernels for turning interleaved RGB bytes into normalised float planes.</summary>
internal static class TensorKernels
{
    /// <summary>
    /// Converts pixels four at a time: one byte shuffle splits R, G and B, which are widened to
    /// floats and normalised with the same operations, in the same order, as the scalar loop (so
    /// results are bit-identical). Returns how many pixels were done; the caller finishes the tail.
    /// </summary>
    public static int PlanesVector128(ReadOnlySpan<byte> src, Span<float> destination, int pixels, bool divide, float divisor,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, int[] sourceChannel)
    {
        var split = Vector128.Create((byte)0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, 0, 0, 0, 0);
        var div = Vector128.Create(divisor);
        Span<Vector128<float>> k = stackalloc Vector128<float>[3];
        Span<Vector128<float>> m = stackalloc Vector128<float>[3];
        Span<Vector128<float>> s = stackalloc Vector128<float>[3];
        for (var c = 0; c < 3; c++)
        {
            k[c] = Vector128.Create(scale[c]);
            m[c] = Vector128.Create(mean[c]);
            s[c] = Vector128.Create(std[c]);
        }

        ref var srcRef = ref MemoryMarshal.GetReference(src);
        ref var dstRef = ref MemoryMarshal.GetReference(destination);
        Span<Vector128<float>> channel = stackalloc Vector128<float>[3];
        var i = 0;
        // 16 bytes are read per 4 pixels (12 used): stop while 16 remain readable.
        for (; (i * 3) + 16 <= src.Length && i + 4 <= pixels; i += 4)
        {
            var bytes = Vector128.Shuffle(Vector128.LoadUnsafe(ref srcRef, (nuint)(i * 3)), split);
            var (lo, hi) = Vector128.Widen(bytes);
            channel[0] = Vector128.ConvertToSingle(Vector128.WidenLower(lo));
            channel[1] = Vector128.ConvertToSingle(Vector128.WidenUpper(lo));
            channel[2] = Vector128.ConvertToSingle(Vector128.WidenLower(hi));
            for (var c = 0; c < 3; c++)
            {
                var x = channel[sourceChannel[c]];
                var v = divide ? ((x / div) - m[c]) / s[c] : ((x * k[c]) - m[c]) / s[c];
                v.StoreUnsafe(ref Unsafe.Add(ref dstRef, (c * pixels) + i));
            }
        }

        return i;
    }
}

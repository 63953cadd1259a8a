using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// SIMD kernels for turning interleaved RGB bytes into normalised float planes. A byte shuffle
/// splits four pixels' R, G and B; 256- and 512-bit paths join two or four such groups and do the
/// arithmetic in wider registers. Every path uses the same operations in the same order as the
/// scalar loop, so all are bit-identical (tests check each one).
/// The kernels skip tiered compilation (<see cref="ResampleKernels"/> says why).
/// </summary>
internal static class TensorKernels
{
    private static readonly Vector128<byte> Split = Vector128.Create((byte)0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, 0, 0, 0, 0);

    /// <summary>The widest vector width (bits) this machine accelerates: 512, 256, 128, or 0.</summary>
    public static int BestWidth =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>
    /// Converts as many of <paramref name="pixels"/> pixels as the chosen width allows into plane c at
    /// destination[c·<paramref name="planeStride"/> + i]; returns how many were done (the caller finishes the tail).
    /// </summary>
    public static int Planes(int width, ReadOnlySpan<byte> src, Span<float> destination, int pixels, int planeStride, bool divide, float divisor,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, ReadOnlySpan<int> sourceChannel) => width switch
        {
            512 => Planes512(src, destination, pixels, planeStride, divide, divisor, scale, mean, std, sourceChannel),
            256 => Planes256(src, destination, pixels, planeStride, divide, divisor, scale, mean, std, sourceChannel),
            128 => Planes128(src, destination, pixels, planeStride, divide, divisor, scale, mean, std, sourceChannel),
            _ => 0,
        };

    /// <summary>R, G and B of four pixels starting at byte <paramref name="offset"/> (16 bytes must be readable).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> R, Vector128<float> G, Vector128<float> B) Four(ref byte src, int offset)
    {
        var bytes = Vector128.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)offset), Split);
        var (lo, hi) = Vector128.Widen(bytes);
        return (Vector128.ConvertToSingle(Vector128.WidenLower(lo)), Vector128.ConvertToSingle(Vector128.WidenUpper(lo)), Vector128.ConvertToSingle(Vector128.WidenLower(hi)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Planes128(ReadOnlySpan<byte> src, Span<float> destination, int pixels, int planeStride, bool divide, float divisor,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, ReadOnlySpan<int> sourceChannel)
    {
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(destination);
        Span<Vector128<float>> ch = stackalloc Vector128<float>[3];
        var i = 0;
        for (; (i * 3) + 16 <= src.Length && i + 4 <= pixels; i += 4)
        {
            (ch[0], ch[1], ch[2]) = Four(ref s, i * 3);
            for (var c = 0; c < 3; c++)
            {
                var x = ch[sourceChannel[c]];
                var v = divide ? ((x / Vector128.Create(divisor)) - Vector128.Create(mean[c])) / Vector128.Create(std[c])
                    : ((x * Vector128.Create(scale[c])) - Vector128.Create(mean[c])) / Vector128.Create(std[c]);
                v.StoreUnsafe(ref Unsafe.Add(ref d, (c * planeStride) + i));
            }
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Planes256(ReadOnlySpan<byte> src, Span<float> destination, int pixels, int planeStride, bool divide, float divisor,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, ReadOnlySpan<int> sourceChannel)
    {
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(destination);
        Span<Vector256<float>> ch = stackalloc Vector256<float>[3];
        var i = 0;
        for (; (i * 3) + 12 + 16 <= src.Length && i + 8 <= pixels; i += 8)
        {
            var a = Four(ref s, i * 3);
            var b = Four(ref s, (i * 3) + 12);
            ch[0] = Vector256.Create(a.R, b.R);
            ch[1] = Vector256.Create(a.G, b.G);
            ch[2] = Vector256.Create(a.B, b.B);
            for (var c = 0; c < 3; c++)
            {
                var x = ch[sourceChannel[c]];
                var v = divide ? ((x / Vector256.Create(divisor)) - Vector256.Create(mean[c])) / Vector256.Create(std[c])
                    : ((x * Vector256.Create(scale[c])) - Vector256.Create(mean[c])) / Vector256.Create(std[c]);
                v.StoreUnsafe(ref Unsafe.Add(ref d, (c * planeStride) + i));
            }
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Planes512(ReadOnlySpan<byte> src, Span<float> destination, int pixels, int planeStride, bool divide, float divisor,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, ReadOnlySpan<int> sourceChannel)
    {
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(destination);
        Span<Vector512<float>> ch = stackalloc Vector512<float>[3];
        var i = 0;
        for (; (i * 3) + 36 + 16 <= src.Length && i + 16 <= pixels; i += 16)
        {
            var a = Four(ref s, i * 3);
            var b = Four(ref s, (i * 3) + 12);
            var e = Four(ref s, (i * 3) + 24);
            var f = Four(ref s, (i * 3) + 36);
            ch[0] = Vector512.Create(Vector256.Create(a.R, b.R), Vector256.Create(e.R, f.R));
            ch[1] = Vector512.Create(Vector256.Create(a.G, b.G), Vector256.Create(e.G, f.G));
            ch[2] = Vector512.Create(Vector256.Create(a.B, b.B), Vector256.Create(e.B, f.B));
            for (var c = 0; c < 3; c++)
            {
                var x = ch[sourceChannel[c]];
                var v = divide ? ((x / Vector512.Create(divisor)) - Vector512.Create(mean[c])) / Vector512.Create(std[c])
                    : ((x * Vector512.Create(scale[c])) - Vector512.Create(mean[c])) / Vector512.Create(std[c]);
                v.StoreUnsafe(ref Unsafe.Add(ref d, (c * planeStride) + i));
            }
        }

        return i;
    }
}

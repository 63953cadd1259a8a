using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// The bilinear warp's inner step for a pixel whose four neighbours lie inside the source: the
/// general loop's double arithmetic in its order — (s00·(1−fx) + s01·fx)·(1−fy) + (s10·(1−fx) +
/// s11·fx)·fy, rounded half to even, clamped — without fill-mode lookups or bounds checks. (A
/// Vector256&lt;double&gt; version over R, G, B of one pixel measured slower than this on an AMD EPYC.)
/// <see cref="Row"/> instead runs four output pixels per channel in one Vector256&lt;double&gt;: the
/// same operations per lane, so the same bytes. Their neighbours are fetched with plain 4-byte
/// loads — AVX2 gathers measured twice as slow for the whole warp on the same EPYC.
/// The kernels skip tiered compilation (<see cref="ResampleKernels"/> says why).
/// </summary>
internal static unsafe class WarpKernels
{
    /// <summary>True when <see cref="Row"/> can run (AVX for the double lanes, SSSE3 for the byte shuffle).</summary>
    public static bool IsSupported => Avx.IsSupported && Ssse3.IsSupported;

    private static readonly Vector128<byte> Interleave = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80);

    /// <summary>
    /// One output row from its source positions (<paramref name="ys"/>, <paramref name="xs"/>): groups of four
    /// pixels whose neighbourhoods all lie inside go through the vector step, the rest through <see cref="Warp.Pixel"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(ReadOnlySpan<byte> src, int w, int h, ReadOnlySpan<double> ys, ReadOnlySpan<double> xs, Span<byte> outRow, FillMode fill, byte fillValue)
    {
        var count = ys.Length;
        var c = 0;
        fixed (byte* basePtr = src)
        {
            var lastOffset = src.Length - 4 - (w * 3) - 3; // bottom-right neighbour's 4-byte load must fit
            var limits = (Y: Vector128.Create(h - 1), X: Vector128.Create(w - 1));
            for (; c + 4 <= count; c += 4)
            {
                var yv = Vector256.Create(ys.Slice(c, 4));
                var xv = Vector256.Create(xs.Slice(c, 4));
                var fyFloor = Vector256.Floor(yv);
                var fxFloor = Vector256.Floor(xv);
                var y0 = Avx.ConvertToVector128Int32WithTruncation(fyFloor);
                var x0 = Avx.ConvertToVector128Int32WithTruncation(fxFloor);
                var offsets = ((y0 * Vector128.Create(w)) + x0) * Vector128.Create(3);
                var inside = Vector128.GreaterThanOrEqual(y0, Vector128<int>.Zero) & Vector128.LessThan(y0, limits.Y)
                    & Vector128.GreaterThanOrEqual(x0, Vector128<int>.Zero) & Vector128.LessThan(x0, limits.X)
                    & Vector128.LessThanOrEqual(offsets, Vector128.Create(lastOffset));
                if (!Vector128.EqualsAll(inside, Vector128<int>.AllBitsSet))
                {
                    for (var k = c; k < c + 4; k++)
                    {
                        Warp.Pixel(src, w, h, ys[k], xs[k], fill, fillValue, direct: true, outRow[(k * 3)..]);
                    }

                    continue;
                }

                // fy = y − y0 with y0 an int converted back exactly: the scalar code's subtraction.
                var fy = yv - fyFloor;
                var fx = xv - fxFloor;
                var gy = Vector256<double>.One - fy;
                var gx = Vector256<double>.One - fx;
                var o0 = offsets.GetElement(0);
                var o1 = offsets.GetElement(1);
                var o2 = offsets.GetElement(2);
                var o3 = offsets.GetElement(3);
                var st = w * 3;
                var p00 = Vector128.Create(*(int*)(basePtr + o0), *(int*)(basePtr + o1), *(int*)(basePtr + o2), *(int*)(basePtr + o3));
                var p01 = Vector128.Create(*(int*)(basePtr + o0 + 3), *(int*)(basePtr + o1 + 3), *(int*)(basePtr + o2 + 3), *(int*)(basePtr + o3 + 3));
                var p10 = Vector128.Create(*(int*)(basePtr + o0 + st), *(int*)(basePtr + o1 + st), *(int*)(basePtr + o2 + st), *(int*)(basePtr + o3 + st));
                var p11 = Vector128.Create(*(int*)(basePtr + o0 + st + 3), *(int*)(basePtr + o1 + st + 3), *(int*)(basePtr + o2 + st + 3), *(int*)(basePtr + o3 + st + 3));
                var r = Channel(p00, p01, p10, p11, 0, fx, gx, fy, gy);
                var g = Channel(p00, p01, p10, p11, 8, fx, gx, fy, gy);
                var b = Channel(p00, p01, p10, p11, 16, fx, gx, fy, gy);
                var rgb = Ssse3.Shuffle((r | (g << 8) | (b << 16)).AsByte(), Interleave);
                ref var d = ref Unsafe.Add(ref MemoryMarshal.GetReference(outRow), c * 3);
                Unsafe.WriteUnaligned(ref d, rgb.AsUInt64().ToScalar());
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 8), rgb.AsUInt32().GetElement(2));
            }
        }

        for (; c < count; c++)
        {
            Warp.Pixel(src, w, h, ys[c], xs[c], fill, fillValue, direct: true, outRow[(c * 3)..]);
        }
    }

    /// <summary>One channel (bits <paramref name="shift"/>..+8 of each loaded pixel) of four output pixels, rounded half to even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Channel(Vector128<int> p00, Vector128<int> p01, Vector128<int> p10, Vector128<int> p11, int shift,
        Vector256<double> fx, Vector256<double> gx, Vector256<double> fy, Vector256<double> gy)
    {
        var mask = Vector128.Create(0xFF);
        var s00 = Avx.ConvertToVector256Double((p00 >>> shift) & mask);
        var s01 = Avx.ConvertToVector256Double((p01 >>> shift) & mask);
        var s10 = Avx.ConvertToVector256Double((p10 >>> shift) & mask);
        var s11 = Avx.ConvertToVector256Double((p11 >>> shift) & mask);
        var top = (s00 * gx) + (s01 * fx);
        var bottom = (s10 * gx) + (s11 * fx);
        var v = (top * gy) + (bottom * fy);
        // v lies in [0, 255] (a convex blend of bytes), so the scalar code's clamp never acts.
        return Avx.ConvertToVector128Int32WithTruncation(Vector256.Round(v));
    }

    /// <summary>One output pixel from the 2×2 neighbourhood at byte <paramref name="offset"/> of <paramref name="src"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interior(ReadOnlySpan<byte> src, int offset, int stride, double fx, double fy, Span<byte> destination)
    {
        ref var s = ref Unsafe.Add(ref MemoryMarshal.GetReference(src), offset);
        ref var d = ref MemoryMarshal.GetReference(destination);
        var gx = 1 - fx;
        var gy = 1 - fy;
        for (var ch = 0; ch < 3; ch++)
        {
            var top = (Unsafe.Add(ref s, ch) * gx) + (Unsafe.Add(ref s, ch + 3) * fx);
            var bottom = (Unsafe.Add(ref s, stride + ch) * gx) + (Unsafe.Add(ref s, stride + ch + 3) * fx);
            var v = (top * gy) + (bottom * fy);
            Unsafe.Add(ref d, ch) = (byte)Math.Clamp((int)Math.Round(v), 0, 255);
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// The two passes of PIL's convolution resize as row kernels. All arithmetic is 32-bit integer
/// (pixel × fixed-point tap, summed with a rounding half, shifted, clipped to 0..255), so the SIMD
/// paths give exactly PIL's bytes whatever the lane width or order of the sums; tests pin each
/// width (<see cref="ImageTransforms.VectorWidth"/>: 512, 256, 128 or 0 for scalar).
/// </summary>
/// <remarks>
/// The row kernels here, in <see cref="TensorKernels"/> and in <see cref="WarpKernels"/> skip tiered compilation
/// (<see cref="MethodImplOptions.AggressiveOptimization"/>): unoptimised vector code is many times slower, and a
/// process's first images paid for it. <c>predict</c> on 500×375 JPEGs, zoo ResNet-18, batch 32, decoding timed apart
/// from the runs on a 2-core AMD EPYC: the second to fourth batches took 104–281 ms to decode instead of the steady
/// 15–20 ms; with the attribute, 21–23 ms.
/// </remarks>
internal static class ResampleKernels
{
    private const int Bits = PilResample.PrecisionBits;
    private const int Half = 1 << (Bits - 1);

    /// <summary>
    /// Horizontal pass over source rows [firstRow, endRow), output columns [left, left + count),
    /// into <paramref name="destination"/> (count·3 bytes a row).
    /// </summary>
    public static void Horizontal(RgbImage source, int firstRow, int endRow, PilResample.Coefficients c, int left, int count, Span<byte> destination)
    {
        var src = source.Pixels;
        var simd = ImageTransforms.VectorWidth >= 128;
        var outStride = count * 3;
        for (var y = firstRow; y < endRow; y++)
        {
            var inRow = src[(y * source.Stride)..];
            var outRow = destination.Slice((y - firstRow) * outStride, outStride);
            if (simd)
            {
                HorizontalRow128(inRow, c, left, count, outRow);
            }
            else
            {
                HorizontalRowScalar(inRow, c, left, count, outRow);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HorizontalRowScalar(ReadOnlySpan<byte> inRow, PilResample.Coefficients c, int left, int count, Span<byte> outRow)
    {
        for (var o = 0; o < count; o++)
        {
            var xx = left + o;
            int s0 = Half, s1 = Half, s2 = Half;
            var taps = c.TapsOf(xx);
            var p = c.Start[xx] * 3;
            for (var x = 0; x < taps.Length; x++, p += 3)
            {
                var k = taps[x];
                s0 += inRow[p] * k;
                s1 += inRow[p + 1] * k;
                s2 += inRow[p + 2] * k;
            }

            outRow[o * 3] = Clip8(s0);
            outRow[(o * 3) + 1] = Clip8(s1);
            outRow[(o * 3) + 2] = Clip8(s2);
        }
    }

    /// <summary>One output pixel per step: a tap's R, G, B (and the next byte, weighted but discarded) in one 4-lane multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HorizontalRow128(ReadOnlySpan<byte> inRow, PilResample.Coefficients c, int left, int count, Span<byte> outRow)
    {
        ref var s = ref MemoryMarshal.GetReference(inRow);
        ref var taps = ref MemoryMarshal.GetArrayDataReference(c.Taps);
        var half = Vector128.Create(Half);
        var o = 0;
        for (; o < count; o++)
        {
            var xx = left + o;
            var n = c.Count[xx];
            var p = c.Start[xx] * 3;
            if (p + (n * 3) + 1 > inRow.Length)
            {
                break; // the last tap's 4-byte load would pass the end of the image: finish scalar
            }

            var acc = half;
            ref var k = ref Unsafe.Add(ref taps, xx * c.KernelSize);
            for (var x = 0; x < n; x++, p += 3)
            {
                acc += Widen4(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref s, p))) * Vector128.Create(Unsafe.Add(ref k, x));
            }

            var packed = ClipToBytes(acc, acc, acc, acc).AsUInt32().ToScalar();
            ref var d = ref Unsafe.Add(ref MemoryMarshal.GetReference(outRow), o * 3);
            d = (byte)packed;
            Unsafe.Add(ref d, 1) = (byte)(packed >> 8);
            Unsafe.Add(ref d, 2) = (byte)(packed >> 16);
        }

        if (o < count)
        {
            HorizontalRowScalar(inRow, c, left + o, count - o, outRow[(o * 3)..]);
        }
    }

    /// <summary>Vertical pass: output row = Σ taps[t] · input row (first + t), for one output row of <paramref name="output"/>.Length bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vertical(ReadOnlySpan<byte> input, int stride, int first, ReadOnlySpan<int> taps, Span<byte> output)
    {
        var width = ImageTransforms.VectorWidth;
        ref var src = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), first * stride);
        ref var dst = ref MemoryMarshal.GetReference(output);
        var length = output.Length;
        var i = 0;
        if (width >= 512)
        {
            for (; i + 16 <= length; i += 16)
            {
                var acc = Vector512.Create(Half);
                for (var t = 0; t < taps.Length; t++)
                {
                    acc += Widen16(Vector128.LoadUnsafe(ref Unsafe.Add(ref src, (t * stride) + i))) * Vector512.Create(taps[t]);
                }

                ClipToBytes(acc.GetLower().GetLower(), acc.GetLower().GetUpper(), acc.GetUpper().GetLower(), acc.GetUpper().GetUpper()).StoreUnsafe(ref dst, (nuint)i);
            }
        }

        if (width >= 256)
        {
            for (; i + 8 <= length; i += 8)
            {
                var acc = Vector256.Create(Half);
                for (var t = 0; t < taps.Length; t++)
                {
                    acc += Widen8(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, (t * stride) + i))) * Vector256.Create(taps[t]);
                }

                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), ClipToBytes(acc.GetLower(), acc.GetUpper(), acc.GetLower(), acc.GetUpper()).AsUInt64().ToScalar());
            }
        }

        if (width >= 128)
        {
            for (; i + 4 <= length; i += 4)
            {
                var acc = Vector128.Create(Half);
                for (var t = 0; t < taps.Length; t++)
                {
                    acc += Widen4(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, (t * stride) + i))) * Vector128.Create(taps[t]);
                }

                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), ClipToBytes(acc, acc, acc, acc).AsUInt32().ToScalar());
            }
        }

        for (; i < length; i++)
        {
            var acc = Half;
            for (var t = 0; t < taps.Length; t++)
            {
                acc += input[((first + t) * stride) + i] * taps[t];
            }

            output[i] = Clip8(acc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clip8(int accumulator)
    {
        var v = accumulator >> Bits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Widen4(uint bytes)
    {
        var v = Vector128.CreateScalarUnsafe(bytes).AsByte();
        return Sse41.IsSupported ? Sse41.ConvertToVector128Int32(v) : Vector128.WidenLower(Vector128.WidenLower(v)).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Widen8(ulong bytes)
    {
        var v = Vector128.CreateScalarUnsafe(bytes).AsByte();
        if (Avx2.IsSupported)
        {
            return Avx2.ConvertToVector256Int32(v);
        }

        var words = Vector128.WidenLower(v);
        return Vector256.Create(Vector128.WidenLower(words), Vector128.WidenUpper(words)).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Widen16(Vector128<byte> v)
    {
        if (Avx512F.IsSupported)
        {
            return Avx512F.ConvertToVector512Int32(v);
        }

        var (lo, hi) = Vector128.Widen(v);
        return Vector512.Create(Vector256.Create(Vector128.WidenLower(lo), Vector128.WidenUpper(lo)), Vector256.Create(Vector128.WidenLower(hi), Vector128.WidenUpper(hi))).AsInt32();
    }

    /// <summary>Shifts four accumulator vectors down by the precision and clips them to bytes, in lane order (PIL's clip8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> ClipToBytes(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d)
    {
        a = Vector128.ShiftRightArithmetic(a, Bits);
        b = Vector128.ShiftRightArithmetic(b, Bits);
        c = Vector128.ShiftRightArithmetic(c, Bits);
        d = Vector128.ShiftRightArithmetic(d, Bits);
        if (Sse2.IsSupported)
        {
            // Signed saturation to 16 bits, then unsigned saturation to 8: exactly clamp(v, 0, 255).
            return Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(a, b), Sse2.PackSignedSaturate(c, d));
        }

        var zero = Vector128<int>.Zero;
        var max = Vector128.Create(255);
        var ab = Vector128.Narrow(Vector128.Min(Vector128.Max(a, zero), max).AsUInt32(), Vector128.Min(Vector128.Max(b, zero), max).AsUInt32());
        var cd = Vector128.Narrow(Vector128.Min(Vector128.Max(c, zero), max).AsUInt32(), Vector128.Min(Vector128.Max(d, zero), max).AsUInt32());
        return Vector128.Narrow(ab, cd);
    }
}

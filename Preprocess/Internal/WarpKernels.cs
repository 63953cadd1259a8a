using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// The bilinear warp's arithmetic on R, G, B (and a fourth, discarded lane) at once, in double
/// precision with the scalar loop's operations in its order — (s00·(1−fx) + s01·fx)·(1−fy) +
/// (s10·(1−fx) + s11·fx)·fy, rounded half to even, clamped — so every lane equals the scalar result.
/// </summary>
internal static class WarpKernels
{
    /// <summary>One output pixel from the 2×2 source neighbourhood at byte <paramref name="offset"/> (the four-byte loads must fit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interior(ReadOnlySpan<byte> src, int offset, int stride, double fx, double fy, Span<byte> destination)
    {
        ref var s = ref Unsafe.Add(ref MemoryMarshal.GetReference(src), offset);
        var s00 = Load(ref s);
        var s01 = Load(ref Unsafe.Add(ref s, 3));
        var s10 = Load(ref Unsafe.Add(ref s, stride));
        var s11 = Load(ref Unsafe.Add(ref s, stride + 3));
        var gx = Vector256.Create(1 - fx);
        var vx = Vector256.Create(fx);
        var top = (s00 * gx) + (s01 * vx);
        var bottom = (s10 * gx) + (s11 * vx);
        var v = (top * Vector256.Create(1 - fy)) + (bottom * Vector256.Create(fy));
        v = Vector256.Min(Vector256.Max(Vector256.Round(v), Vector256<double>.Zero), Vector256.Create(255.0));
        ref var d = ref MemoryMarshal.GetReference(destination);
        if (Avx.IsSupported)
        {
            // v holds whole numbers in 0..255: truncation is exact.
            var ints = Avx.ConvertToVector128Int32WithTruncation(v);
            d = (byte)ints.GetElement(0);
            Unsafe.Add(ref d, 1) = (byte)ints.GetElement(1);
            Unsafe.Add(ref d, 2) = (byte)ints.GetElement(2);
            return;
        }

        d = (byte)v.GetElement(0);
        Unsafe.Add(ref d, 1) = (byte)v.GetElement(1);
        Unsafe.Add(ref d, 2) = (byte)v.GetElement(2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Load(ref byte p)
    {
        var v = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref p)).AsByte();
        var ints = Sse41.IsSupported ? Sse41.ConvertToVector128Int32(v) : Vector128.WidenLower(Vector128.WidenLower(v)).AsInt32();
        return Avx.IsSupported ? Avx.ConvertToVector256Double(ints) : Vector256.Create(Vector128.ConvertToDouble(Vector128.WidenLower(ints)), Vector128.ConvertToDouble(Vector128.WidenUpper(ints)));
    }
}

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// The two pixel conversions the native decoders leave to us, each bit-exact with PIL so
/// parity tests can demand equality.
/// </summary>
internal static class PixelConversions
{
    // CompositeTable[a * 256 + c]: colour c with alpha a over opaque white.
    private static readonly byte[] CompositeTable = BuildCompositeTable();

    /// <summary>
    /// Adobe (inverted) CMYK as TurboJPEG returns it for CMYK/YCCK JPEGs → RGB, like PIL: it
    /// reads such files with raw mode <c>CMYK;I</c> (C = 255 − stored) and converts with
    /// <c>cmyk2rgb</c>: R = nk − C·nk/255 (rounded as MULDIV255), nk = 255 − K.
    /// </summary>
    public static void InvertedCmykToRgb(ReadOnlySpan<byte> cmyk, Span<byte> rgb)
    {
        for (int i = 0, o = 0; i + 3 < cmyk.Length; i += 4, o += 3)
        {
            int nk = cmyk[i + 3]; // 255 − K, K = 255 − stored
            rgb[o] = (byte)(nk - MulDiv255(255 - cmyk[i], nk));
            rgb[o + 1] = (byte)(nk - MulDiv255(255 - cmyk[i + 1], nk));
            rgb[o + 2] = (byte)(nk - MulDiv255(255 - cmyk[i + 2], nk));
        }
    }

    /// <summary>
    /// Straight (not premultiplied) RGBA → RGB composited over opaque white in sRGB values,
    /// exactly as PIL's <c>Image.alpha_composite(white, image)</c> computes it.
    /// </summary>
    public static void CompositeOnWhite(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        var table = CompositeTable;
        for (int i = 0, o = 0; i + 3 < rgba.Length; i += 4, o += 3)
        {
            var row = rgba[i + 3] << 8;
            rgb[o] = table[row + rgba[i]];
            rgb[o + 1] = table[row + rgba[i + 1]];
            rgb[o + 2] = table[row + rgba[i + 2]];
        }
    }

    /// <summary>PIL's <c>MULDIV255</c>: a·b/255 rounded, in integers.</summary>
    private static int MulDiv255(int a, int b)
    {
        var tmp = (a * b) + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    /// <summary>PIL's <c>ImagingAlphaComposite</c> (7 extra bits of precision) with an opaque white destination.</summary>
    private static byte[] BuildCompositeTable()
    {
        const int precisionBits = 7;
        var table = new byte[256 * 256];
        for (uint a = 0; a < 256; a++)
        {
            for (uint c = 0; c < 256; c++)
            {
                if (a == 0)
                {
                    table[c] = 255;
                    continue;
                }

                const uint dst = 255, dstAlpha = 255;
                var blend = dstAlpha * (255 - a);
                var outa255 = (a * 255) + blend;
                var coef1 = a * 255 * 255 * (1u << precisionBits) / outa255;
                var coef2 = (255 * (1u << precisionBits)) - coef1;
                var tmp = (c * coef1) + (dst * coef2) + (0x80u << precisionBits);
                table[(a << 8) + c] = (byte)((((tmp >> 8) + tmp) >> 8) >> precisionBits);
            }
        }

        return table;
    }
}

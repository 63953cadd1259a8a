using static OnnxCnn.Preprocess.Internal.TurboJpeg.TurboJpegNative;

namespace OnnxCnn.Preprocess.Internal.TurboJpeg;

/// <summary>
/// Chooses the DCT-domain scaling factor: the smallest of TurboJPEG's factors (those at most
/// 1; libjpeg-turbo offers n/8 for n = 1..8) whose output still covers the requested minimum
/// in both dimensions. Never upscales.
/// </summary>
/// <remarks>
/// PIL's <c>draft()</c> only uses 1/2, 1/4 and 1/8 and picks by integer ratio; here any n/8 is
/// allowed, so for a 640×480 image and a 150×150 minimum this picks 3/8 (240×180) where
/// <c>draft()</c> picks 1/2 (320×240). Both cover the minimum; ours decodes less.
/// </remarks>
internal static unsafe class JpegScaling
{
    private static readonly Lazy<(int Num, int Denom)[]> Factors = new(LoadFactors);

    /// <summary>The factors at most 1, smallest first.</summary>
    public static IReadOnlyList<(int Num, int Denom)> DownscalingFactors => Factors.Value;

    /// <summary>The decoded size for an image of <paramref name="width"/>×<paramref name="height"/> and the given minimum (0 = no limit).</summary>
    public static (int Width, int Height) Choose(int width, int height, int minWidth, int minHeight)
    {
        if (minWidth <= 0 && minHeight <= 0)
        {
            return (width, height);
        }

        foreach (var (num, denom) in Factors.Value)
        {
            var w = Scaled(width, num, denom);
            var h = Scaled(height, num, denom);
            if (w >= minWidth && h >= minHeight)
            {
                return (w, h);
            }
        }

        return (width, height);
    }

    /// <summary><c>TJSCALED(dimension, factor)</c>: ceil(dimension · num / denom).</summary>
    public static int Scaled(int dimension, int num, int denom) => (int)((((long)dimension * num) + denom - 1) / denom);

    private static (int, int)[] LoadFactors()
    {
        int count;
        var table = GetScalingFactors(&count);
        if (table is null || count <= 0)
        {
            return [(1, 1)];
        }

        var list = new List<(int Num, int Denom)>();
        for (var i = 0; i < count; i++)
        {
            if (table[i].Num > 0 && table[i].Num <= table[i].Denom)
            {
                list.Add((table[i].Num, table[i].Denom));
            }
        }

        list.Sort((a, b) => ((long)a.Num * b.Denom).CompareTo((long)b.Num * a.Denom));
        return [.. list];
    }
}

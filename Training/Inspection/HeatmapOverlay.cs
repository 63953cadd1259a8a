using OnnxCnn.Preprocess;
using OnnxCnn.Training.Inspection.Internal;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training.Inspection;

/// <summary>A colour map from 0…1 to RGB (matplotlib's tables).</summary>
public enum ColorMap
{
    /// <summary>Blue → cyan → yellow → red (the usual Grad-CAM overlay).</summary>
    Jet,

    /// <summary>Perceptually uniform dark blue → green → yellow.</summary>
    Viridis,
}

/// <summary>Draws a Grad-CAM map over the image it explains.</summary>
public static class HeatmapOverlay
{
    /// <summary>The map's colour at <paramref name="value"/> in 0…1 (clamped).</summary>
    public static (byte R, byte G, byte B) Color(ColorMap map, float value)
    {
        var table = map == ColorMap.Viridis ? ColorMapTables.Viridis : ColorMapTables.Jet;
        var k = (int)Math.Clamp(MathF.Round(value * 255), 0, 255) * 3;
        return (table[k], table[k + 1], table[k + 2]);
    }

    /// <summary>
    /// Bilinear resize of an <paramref name="height"/>×<paramref name="width"/> map to
    /// <paramref name="outHeight"/>×<paramref name="outWidth"/> with pixel centres aligned (PyTorch's
    /// <c>interpolate(mode="bilinear", align_corners=False)</c>, OpenCV's <c>resize</c>).
    /// </summary>
    public static float[] Upsample(ReadOnlySpan<float> map, int height, int width, int outHeight, int outWidth)
    {
        var result = new float[outHeight * outWidth];
        var (sy, sx) = ((double)height / outHeight, (double)width / outWidth);
        for (var y = 0; y < outHeight; y++)
        {
            var (y0, y1, fy) = Source(y, sy, height);
            for (var x = 0; x < outWidth; x++)
            {
                var (x0, x1, fx) = Source(x, sx, width);
                var top = ((1 - fx) * map[(y0 * width) + x0]) + (fx * map[(y0 * width) + x1]);
                var bottom = ((1 - fx) * map[(y1 * width) + x0]) + (fx * map[(y1 * width) + x1]);
                result[(y * outWidth) + x] = (float)(((1 - fy) * top) + (fy * bottom));
            }
        }

        return result;
    }

    /// <summary>Scales a map to 0…1 by its minimum and maximum (all zeros when it is constant).</summary>
    public static float[] Normalize(ReadOnlySpan<float> map)
    {
        var (min, max) = (float.PositiveInfinity, float.NegativeInfinity);
        foreach (var v in map)
        {
            (min, max) = (Math.Min(min, v), Math.Max(max, v));
        }

        var result = new float[map.Length];
        if (max > min)
        {
            for (var i = 0; i < map.Length; i++)
            {
                result[i] = (map[i] - min) / (max - min);
            }
        }

        return result;
    }

    /// <summary>
    /// The picture with the map upsampled to its size, normalised to 0…1, coloured and blended in:
    /// (1 − <paramref name="alpha"/>)·picture + <paramref name="alpha"/>·colour.
    /// </summary>
    public static RgbImage Draw(RgbImage picture, GradCamResult cam, ColorMap colorMap = ColorMap.Jet, float alpha = 0.4f)
    {
        if (alpha is not (>= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be between 0 and 1, not {alpha}.");
        }

        var heat = Normalize(Upsample(cam.Map, cam.Height, cam.Width, picture.Height, picture.Width));
        var result = RgbImage.Create(picture.Width, picture.Height);
        var source = picture.Pixels;
        var target = result.Pixels;
        for (var i = 0; i < heat.Length; i++)
        {
            var (r, g, b) = Color(colorMap, heat[i]);
            target[i * 3] = Blend(source[i * 3], r, alpha);
            target[(i * 3) + 1] = Blend(source[(i * 3) + 1], g, alpha);
            target[(i * 3) + 2] = Blend(source[(i * 3) + 2], b, alpha);
        }

        return result;
    }

    /// <summary>Writes <see cref="Draw"/>'s image as PNG through a temporary file, so a failure leaves nothing half-written.</summary>
    public static void Save(RgbImage picture, GradCamResult cam, string path, ColorMap colorMap = ColorMap.Jet, float alpha = 0.4f)
    {
        using var image = Draw(picture, cam, colorMap, alpha);
        AtomicFile.Write(path, PngEncoder.Encode(image));
    }

    private static byte Blend(byte under, byte over, float alpha) => (byte)Math.Clamp(MathF.Round(((1 - alpha) * under) + (alpha * over)), 0, 255);

    /// <summary>PyTorch's source index for output position <paramref name="i"/>: (i + ½)·scale − ½, clamped at 0.</summary>
    private static (int I0, int I1, double Fraction) Source(int i, double scale, int size)
    {
        var s = Math.Max(((i + 0.5) * scale) - 0.5, 0);
        var i0 = Math.Min((int)s, size - 1);
        var i1 = Math.Min(i0 + 1, size - 1);
        return (i0, i1, s - i0);
    }
}

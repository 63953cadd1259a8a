namespace OnnxCnn.Preprocess.Internal;

/// <summary>3×3 row-major affine matrices over (row, column, 1).</summary>
internal static class Affine
{
    public static double[] Multiply(double[] a, double[] b)
    {
        var c = new double[9];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                c[(i * 3) + j] = (a[i * 3] * b[j]) + (a[(i * 3) + 1] * b[3 + j]) + (a[(i * 3) + 2] * b[6 + j]);
            }
        }

        return c;
    }
}

/// <summary>Resampling through an affine map from output to source pixels.</summary>
internal static class Warp
{
    /// <summary>Bilinear sampling with Keras' fill modes; <paramref name="map"/> takes output (row, col) to source (row, col).</summary>
    public static RgbImage Bilinear(RgbImage source, double[] map, int width, int height, FillMode fill, byte fillValue)
    {
        var output = RgbImage.Create(width, height);
        var src = source.Pixels;
        var w = source.Width;
        var h = source.Height;
        var simd = ImageTransforms.VectorWidth >= 256;
        for (var r = 0; r < height; r++)
        {
            var outRow = output.Row(r);
            // Source coordinates move linearly along a row.
            var y = (map[0] * r) + map[2];
            var x = (map[3] * r) + map[5];
            for (var c = 0; c < width; c++, y += map[1], x += map[4])
            {
                if (fill == FillMode.Constant && (y < -1e-9 || y > h - 1 + 1e-9 || x < -1e-9 || x > w - 1 + 1e-9))
                {
                    outRow.Slice(c * 3, 3).Fill(fillValue);
                    continue;
                }

                var y0 = (int)Math.Floor(y);
                var x0 = (int)Math.Floor(x);
                var fy = y - y0;
                var fx = x - x0;
                if (simd && y0 >= 0 && y0 + 1 < h && x0 >= 0 && x0 + 1 < w && ((((y0 + 1) * w) + x0 + 1) * 3) + 4 <= src.Length)
                {
                    // All four neighbours inside (the fill mode plays no part): the three channels in one vector.
                    WarpKernels.Interior(src, (((y0 * w) + x0) * 3), w * 3, fx, fy, outRow[(c * 3)..]);
                    continue;
                }

                var ya = Index(y0, h, fill);
                var yb = Index(y0 + 1, h, fill);
                var xa = Index(x0, w, fill);
                var xb = Index(x0 + 1, w, fill);
                for (var ch = 0; ch < 3; ch++)
                {
                    var top = (Sample(src, ya, xa, w, ch, fillValue) * (1 - fx)) + (Sample(src, ya, xb, w, ch, fillValue) * fx);
                    var bottom = (Sample(src, yb, xa, w, ch, fillValue) * (1 - fx)) + (Sample(src, yb, xb, w, ch, fillValue) * fx);
                    var v = (top * (1 - fy)) + (bottom * fy);
                    outRow[(c * 3) + ch] = (byte)Math.Clamp((int)Math.Round(v), 0, 255);
                }
            }
        }

        return output;
    }

    private static double Sample(ReadOnlySpan<byte> src, int row, int col, int width, int channel, byte fillValue) =>
        row < 0 || col < 0 ? fillValue : src[(((row * width) + col) * 3) + channel];

    /// <summary>A source index for an integer position, by fill mode; −1 means "use the fill value".</summary>
    private static int Index(int i, int n, FillMode fill)
    {
        if (i >= 0 && i < n)
        {
            return i;
        }

        switch (fill)
        {
            case FillMode.Nearest:
                return i < 0 ? 0 : n - 1;
            case FillMode.Wrap:
                return ((i % n) + n) % n;
            case FillMode.Reflect:
                var period = 2 * n;
                var m = ((i % period) + period) % period;
                return m < n ? m : period - 1 - m;
            default:
                return -1;
        }
    }
}

/// <summary>torchvision's ColorJitter operations on 8-bit RGB, in place.</summary>
internal static class ColourJitter
{
    public static void Apply(RgbImage image, IReadOnlyList<(int Op, double Factor)> ops)
    {
        var px = image.Pixels;
        foreach (var (op, factor) in ops)
        {
            switch (op)
            {
                case 0:
                    // Brightness: blend with black.
                    for (var i = 0; i < px.Length; i++)
                    {
                        px[i] = Clip(px[i] * factor);
                    }

                    break;
                case 1:
                    // Contrast: blend with the mean grey level.
                    double sum = 0;
                    for (var i = 0; i < px.Length; i += 3)
                    {
                        sum += Grey(px[i], px[i + 1], px[i + 2]);
                    }

                    var mean = Math.Round(sum / (px.Length / 3));
                    for (var i = 0; i < px.Length; i++)
                    {
                        px[i] = Clip(mean + ((px[i] - mean) * factor));
                    }

                    break;
                case 2:
                    // Saturation: blend with the grey version.
                    for (var i = 0; i < px.Length; i += 3)
                    {
                        var g = Grey(px[i], px[i + 1], px[i + 2]);
                        for (var c = 0; c < 3; c++)
                        {
                            px[i + c] = Clip(g + ((px[i + c] - g) * factor));
                        }
                    }

                    break;
                default:
                    Hue(px, factor);
                    break;
            }
        }
    }

    private static double Grey(byte r, byte g, byte b) => ((r * 299) + (g * 587) + (b * 114)) / 1000.0;

    private static byte Clip(double v) => (byte)Math.Clamp((int)Math.Round(v), 0, 255);

    private static void Hue(Span<byte> px, double shift)
    {
        for (var i = 0; i < px.Length; i += 3)
        {
            double r = px[i] / 255.0, g = px[i + 1] / 255.0, b = px[i + 2] / 255.0;
            var max = Math.Max(r, Math.Max(g, b));
            var min = Math.Min(r, Math.Min(g, b));
            var delta = max - min;
            var h = 0.0;
            if (delta > 0)
            {
                h = max == r ? ((g - b) / delta) % 6 : max == g ? ((b - r) / delta) + 2 : ((r - g) / delta) + 4;
                h /= 6;
            }

            h = (((h + shift) % 1) + 1) % 1;
            var s = max == 0 ? 0 : delta / max;
            var v = max;
            var sector = h * 6;
            var k = (int)Math.Floor(sector) % 6;
            var f = sector - Math.Floor(sector);
            double p = v * (1 - s), q = v * (1 - (s * f)), t = v * (1 - (s * (1 - f)));
            (r, g, b) = k switch
            {
                0 => (v, t, p),
                1 => (q, v, p),
                2 => (p, v, t),
                3 => (p, q, v),
                4 => (t, p, v),
                _ => (v, p, q),
            };
            px[i] = Clip(r * 255);
            px[i + 1] = Clip(g * 255);
            px[i + 2] = Clip(b * 255);
        }
    }
}

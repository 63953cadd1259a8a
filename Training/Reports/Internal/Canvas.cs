using OnnxCnn.Preprocess;

namespace OnnxCnn.Training.Reports.Internal;

/// <summary>An 8-bit RGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);
    public static readonly Rgb Black = new(0, 0, 0);

    /// <summary>This colour moved <paramref name="t"/> of the way towards <paramref name="other"/>.</summary>
    public Rgb Mix(Rgb other, double t) => new(Lerp(R, other.R, t), Lerp(G, other.G, t), Lerp(B, other.B, t));

    private static byte Lerp(byte a, byte b, double t) => (byte)Math.Round(a + ((b - a) * Math.Clamp(t, 0, 1)));
}

/// <summary>
/// Drawing on an <see cref="RgbImage"/>: rectangles, anti-aliased polylines (coverage from the
/// distance to the segment, so a line's centre pixels get exactly its colour), dots and bitmap text.
/// Everything is clipped to the image.
/// </summary>
internal sealed class Canvas(RgbImage image)
{
    public RgbImage Image { get; } = image;

    public int Width => Image.Width;

    public int Height => Image.Height;

    public Rgb this[int x, int y]
    {
        get
        {
            var row = Image.Row(y);
            return new Rgb(row[x * 3], row[(x * 3) + 1], row[(x * 3) + 2]);
        }
    }

    public void Clear(Rgb color) => FillRect(0, 0, Width, Height, color);

    public void Set(int x, int y, Rgb color)
    {
        if ((uint)x < (uint)Width && (uint)y < (uint)Height)
        {
            var row = Image.Row(y);
            row[x * 3] = color.R;
            row[(x * 3) + 1] = color.G;
            row[(x * 3) + 2] = color.B;
        }
    }

    public void Blend(int x, int y, Rgb color, double alpha)
    {
        if (alpha <= 0 || (uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            return;
        }

        Set(x, y, alpha >= 1 ? color : this[x, y].Mix(color, alpha));
    }

    public void FillRect(int x, int y, int width, int height, Rgb color)
    {
        for (var j = Math.Max(0, y); j < Math.Min(Height, y + height); j++)
        {
            for (var i = Math.Max(0, x); i < Math.Min(Width, x + width); i++)
            {
                Set(i, j, color);
            }
        }
    }

    public void HLine(int x0, int x1, int y, Rgb color) => FillRect(Math.Min(x0, x1), y, Math.Abs(x1 - x0) + 1, 1, color);

    public void VLine(int x, int y0, int y1, Rgb color) => FillRect(x, Math.Min(y0, y1), 1, Math.Abs(y1 - y0) + 1, color);

    /// <summary>
    /// A polyline of <paramref name="width"/> pixels with round joins. Coverage is the maximum over
    /// its segments, so joints are not blended twice. Points are in continuous image coordinates
    /// (pixel (i, j) covers [i, i+1) × [j, j+1)).
    /// </summary>
    public void Polyline(ReadOnlySpan<(double X, double Y)> points, Rgb color, double width)
    {
        if (points.Length == 0)
        {
            return;
        }

        var reach = (width / 2) + 1;
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        foreach (var (x, y) in points)
        {
            (minX, maxX, minY, maxY) = (Math.Min(minX, x), Math.Max(maxX, x), Math.Min(minY, y), Math.Max(maxY, y));
        }

        var left = Math.Max(0, (int)Math.Floor(minX - reach));
        var top = Math.Max(0, (int)Math.Floor(minY - reach));
        var right = Math.Min(Width - 1, (int)Math.Ceiling(maxX + reach));
        var bottom = Math.Min(Height - 1, (int)Math.Ceiling(maxY + reach));
        if (left > right || top > bottom)
        {
            return;
        }

        var stride = right - left + 1;
        var coverage = new float[stride * (bottom - top + 1)];
        for (var s = 0; s < Math.Max(1, points.Length - 1); s++)
        {
            var (ax, ay) = points[s];
            var (bx, by) = points[Math.Min(s + 1, points.Length - 1)];
            var x0 = Math.Max(left, (int)Math.Floor(Math.Min(ax, bx) - reach));
            var x1 = Math.Min(right, (int)Math.Ceiling(Math.Max(ax, bx) + reach));
            var y0 = Math.Max(top, (int)Math.Floor(Math.Min(ay, by) - reach));
            var y1 = Math.Min(bottom, (int)Math.Ceiling(Math.Max(ay, by) + reach));
            for (var j = y0; j <= y1; j++)
            {
                for (var i = x0; i <= x1; i++)
                {
                    var d = DistanceToSegment(i + 0.5, j + 0.5, ax, ay, bx, by);
                    var c = (float)Math.Clamp((width / 2) + 0.5 - d, 0, 1);
                    ref var cell = ref coverage[((j - top) * stride) + (i - left)];
                    cell = Math.Max(cell, c);
                }
            }
        }

        for (var j = top; j <= bottom; j++)
        {
            for (var i = left; i <= right; i++)
            {
                Blend(i, j, color, coverage[((j - top) * stride) + (i - left)]);
            }
        }
    }

    /// <summary>A filled disc: a zero-length polyline of diameter 2·<paramref name="radius"/>.</summary>
    public void Dot(double x, double y, double radius, Rgb color) => Polyline([(x, y)], color, 2 * radius);

    /// <summary>Text with its top-left corner at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public void Text(int x, int y, string text, Rgb color, int scale)
    {
        for (var k = 0; k < text.Length; k++)
        {
            var gx = x + (k * BitmapFont.Advance * scale);
            for (var fy = 0; fy < BitmapFont.GlyphHeight; fy++)
            {
                for (var fx = 0; fx < BitmapFont.GlyphWidth; fx++)
                {
                    if (BitmapFont.IsSet(text[k], fx, fy))
                    {
                        FillRect(gx + (fx * scale), y + (fy * scale), scale, scale, color);
                    }
                }
            }
        }
    }

    /// <summary>Text centred horizontally on <paramref name="centerX"/>.</summary>
    public void TextCentered(int centerX, int y, string text, Rgb color, int scale) =>
        Text(centerX - (BitmapFont.Measure(text, scale) / 2), y, text, color, scale);

    /// <summary>Text rotated a quarter turn counter-clockwise (read bottom to top): glyph tops face left at column <paramref name="x"/>, the first character starts at row <paramref name="bottomY"/>.</summary>
    public void TextVertical(int x, int bottomY, string text, Rgb color, int scale)
    {
        for (var k = 0; k < text.Length; k++)
        {
            var gy = bottomY - (k * BitmapFont.Advance * scale);
            for (var fy = 0; fy < BitmapFont.GlyphHeight; fy++)
            {
                for (var fx = 0; fx < BitmapFont.GlyphWidth; fx++)
                {
                    if (BitmapFont.IsSet(text[k], fx, fy))
                    {
                        // Font (fx, fy) → image (x + fy, bottomY − fx): rotation by 90° counter-clockwise.
                        FillRect(x + (fy * scale), gy - ((fx + 1) * scale), scale, scale, color);
                    }
                }
            }
        }
    }

    private static double DistanceToSegment(double px, double py, double ax, double ay, double bx, double by)
    {
        double dx = bx - ax, dy = by - ay;
        var lengthSquared = (dx * dx) + (dy * dy);
        var t = lengthSquared == 0 ? 0 : Math.Clamp((((px - ax) * dx) + ((py - ay) * dy)) / lengthSquared, 0, 1);
        double cx = ax + (t * dx) - px, cy = ay + (t * dy) - py;
        return Math.Sqrt((cx * cx) + (cy * cy));
    }
}

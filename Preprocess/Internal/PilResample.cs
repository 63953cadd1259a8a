namespace OnnxCnn.Preprocess.Internal;

/// <summary>PIL's resampling kernels (libImaging/Resample.c and the affine nearest path of Geometry.c), reimplemented.</summary>
internal static class PilResample
{
    /// <summary>Coefficient precision: 32 bits less 8 for the result and 2 for overshoot of negative lobes.</summary>
    private const int PrecisionBits = 32 - 8 - 2;

    public delegate double Kernel(double x);

    public static readonly (Kernel Filter, double Support) Bilinear = (static x =>
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }, 1.0);

    public static readonly (Kernel Filter, double Support) Bicubic = (static x =>
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0)
        {
            return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        }

        return x < 2.0 ? ((((x - 5) * x) + 8) * x - 4) * a : 0.0;
    }, 2.0);

    /// <summary>Per output position: first source index, tap count, and the fixed-point taps (ksize apart).</summary>
    private readonly record struct Coefficients(int[] Start, int[] Count, int[] Taps, int KernelSize);

    private static Coefficients Precompute(int inSize, int outSize, (Kernel Filter, double Support) filter)
    {
        // PIL passes the box edges as floats; for a whole image they are 0 and inSize.
        var scale = (double)(float)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filter.Support * filterScale;
        var kernelSize = ((int)Math.Ceiling(support) * 2) + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var taps = new int[outSize * kernelSize];
        var weights = new double[kernelSize];
        for (var xx = 0; xx < outSize; xx++)
        {
            var center = (xx + 0.5) * scale;
            var ss = 1.0 / filterScale;
            var xmin = Math.Max((int)(center - support + 0.5), 0);
            var xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            var sum = 0.0;
            for (var x = 0; x < xmax; x++)
            {
                var w = filter.Filter((x + xmin - center + 0.5) * ss);
                weights[x] = w;
                sum += w;
            }

            for (var x = 0; x < xmax; x++)
            {
                var k = sum != 0.0 ? weights[x] / sum : weights[x];
                taps[(xx * kernelSize) + x] = k < 0 ? (int)(-0.5 + (k * (1 << PrecisionBits))) : (int)(0.5 + (k * (1 << PrecisionBits)));
            }

            start[xx] = xmin;
            count[xx] = xmax;
        }

        return new Coefficients(start, count, taps, kernelSize);
    }

    private static byte Clip8(int accumulator)
    {
        var v = accumulator >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    public static RgbImage Convolve(RgbImage source, int width, int height, (Kernel Filter, double Support) filter)
    {
        var vertical = Precompute(source.Height, height, filter);
        var needHorizontal = width != source.Width;
        var needVertical = height != source.Height;
        var firstRow = vertical.Start[0];
        var lastRow = vertical.Start[height - 1] + vertical.Count[height - 1];

        RgbImage? temp = null;
        var input = source;
        var rowOffset = 0;
        try
        {
            if (needHorizontal)
            {
                // Only the rows the vertical pass will read are resampled horizontally.
                var horizontal = Precompute(source.Width, width, filter);
                temp = RgbImage.Create(width, lastRow - firstRow);
                Horizontal(source, temp, firstRow, horizontal);
                input = temp;
                rowOffset = firstRow;
            }

            if (!needVertical)
            {
                // Only the width changed: the horizontal pass covered every row.
                var result = temp!;
                temp = null;
                return result;
            }

            var output = RgbImage.Create(input.Width, height);
            Vertical(input, output, rowOffset, vertical);
            return output;
        }
        finally
        {
            temp?.Dispose();
        }
    }

    private static void Horizontal(RgbImage input, RgbImage output, int firstRow, Coefficients c)
    {
        var half = 1 << (PrecisionBits - 1);
        var src = input.Pixels;
        var dst = output.Pixels;
        for (var y = 0; y < output.Height; y++)
        {
            var inRow = src.Slice((y + firstRow) * input.Stride, input.Stride);
            var outRow = dst.Slice(y * output.Stride, output.Stride);
            for (var xx = 0; xx < output.Width; xx++)
            {
                int s0 = half, s1 = half, s2 = half;
                var taps = c.Taps.AsSpan(xx * c.KernelSize, c.Count[xx]);
                var p = c.Start[xx] * 3;
                for (var x = 0; x < taps.Length; x++, p += 3)
                {
                    var k = taps[x];
                    s0 += inRow[p] * k;
                    s1 += inRow[p + 1] * k;
                    s2 += inRow[p + 2] * k;
                }

                outRow[xx * 3] = Clip8(s0);
                outRow[(xx * 3) + 1] = Clip8(s1);
                outRow[(xx * 3) + 2] = Clip8(s2);
            }
        }
    }

    private static void Vertical(RgbImage input, RgbImage output, int rowOffset, Coefficients c)
    {
        var half = 1 << (PrecisionBits - 1);
        var src = input.Pixels;
        var dst = output.Pixels;
        var stride = input.Stride;
        var acc = new int[stride];
        for (var yy = 0; yy < output.Height; yy++)
        {
            acc.AsSpan().Fill(half);
            var taps = c.Taps.AsSpan(yy * c.KernelSize, c.Count[yy]);
            var first = c.Start[yy] - rowOffset;
            for (var y = 0; y < taps.Length; y++)
            {
                var k = taps[y];
                var row = src.Slice((first + y) * stride, stride);
                for (var i = 0; i < stride; i++)
                {
                    acc[i] += row[i] * k;
                }
            }

            var outRow = dst.Slice(yy * stride, stride);
            for (var i = 0; i < stride; i++)
            {
                outRow[i] = Clip8(acc[i]);
            }
        }
    }

    /// <summary>PIL's nearest neighbour: source = truncate(0.5·step + x·step), stepped by repeated addition as PIL does.</summary>
    public static RgbImage Nearest(RgbImage source, int width, int height)
    {
        var xstep = (double)(float)source.Width / width;
        var ystep = (double)(float)source.Height / height;
        var xin = new int[width];
        var xo = xstep * 0.5;
        for (var x = 0; x < width; x++)
        {
            xin[x] = Math.Min((int)xo, source.Width - 1);
            xo += xstep;
        }

        var output = RgbImage.Create(width, height);
        var yo = ystep * 0.5;
        for (var y = 0; y < height; y++)
        {
            var inRow = source.Row(Math.Min((int)yo, source.Height - 1));
            var outRow = output.Row(y);
            for (var x = 0; x < width; x++)
            {
                var p = xin[x] * 3;
                outRow[x * 3] = inRow[p];
                outRow[(x * 3) + 1] = inRow[p + 1];
                outRow[(x * 3) + 2] = inRow[p + 2];
            }

            yo += ystep;
        }

        return output;
    }
}

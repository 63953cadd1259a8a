using System.Buffers;
using System.Collections.Concurrent;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// PIL's resampling (libImaging/Resample.c and the affine nearest path of Geometry.c),
/// reimplemented: two separable passes with precomputed 22-bit integer coefficients, horizontal
/// first into an 8-bit intermediate. A window of the output (a centre crop) can be computed
/// alone: every output pixel is the same integer sum PIL computes for the whole image, so the
/// window is bit-identical to resizing everything and cropping, at the cost of the window only.
/// </summary>
internal static class PilResample
{
    /// <summary>Coefficient precision: 32 bits less 8 for the result and 2 for overshoot of negative lobes.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

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

    /// <summary>Coefficients per (input size, output size, filter): images of a data set share a few sizes.</summary>
    private static readonly ConcurrentDictionary<(int In, int Out, Kernel Filter), Coefficients> Cache = new();

    /// <summary>A window of the output: columns [Left, Left + Width), rows [Top, Top + Height).</summary>
    public readonly record struct Window(int Left, int Top, int Width, int Height);

    /// <summary>Receives the output rows of <see cref="Convolve{TSink}"/> top to bottom (struct: no delegate on the hot path).</summary>
    public interface IRowSink
    {
        /// <summary>Row <paramref name="y"/> of the window (0 = its top), HWC bytes.</summary>
        void Row(int y, ReadOnlySpan<byte> rgb);
    }

    /// <summary>Copies rows into an image of the window's size.</summary>
    public readonly struct ImageSink(RgbImage image) : IRowSink
    {
        public void Row(int y, ReadOnlySpan<byte> rgb) => rgb.CopyTo(image.Row(y));
    }

    public static RgbImage Convolve(RgbImage source, int width, int height, (Kernel Filter, double Support) filter) =>
        Convolve(source, width, height, filter, new Window(0, 0, width, height));

    /// <summary>The <paramref name="window"/> of <paramref name="source"/> resized to width×height, as a new image.</summary>
    public static RgbImage Convolve(RgbImage source, int width, int height, (Kernel Filter, double Support) filter, Window window)
    {
        var output = RgbImage.Create(window.Width, window.Height);
        try
        {
            var sink = new ImageSink(output);
            Convolve(source, width, height, filter, window, ref sink);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Resizes <paramref name="source"/> to width×height and hands the rows of <paramref name="window"/> to <paramref name="sink"/>.</summary>
    public static void Convolve<TSink>(RgbImage source, int width, int height, (Kernel Filter, double Support) filter, Window window, ref TSink sink)
        where TSink : IRowSink, allows ref struct
    {
        var needHorizontal = width != source.Width;
        var needVertical = height != source.Height;
        var vertical = needVertical ? Coefficients.For(source.Height, height, filter) : null;

        // The source rows the window's output rows read (all of them when PIL skips the vertical pass).
        int firstRow, endRow;
        if (vertical is null)
        {
            (firstRow, endRow) = (window.Top, window.Top + window.Height);
        }
        else
        {
            (firstRow, endRow) = vertical.Span(window.Top, window.Height);
        }

        var rowBytes = window.Width * 3;
        byte[]? temp = null;
        byte[]? line = null;
        try
        {
            ReadOnlySpan<byte> input;
            int inputStride;
            if (needHorizontal)
            {
                var horizontal = Coefficients.For(source.Width, width, filter);
                temp = ArrayPool<byte>.Shared.Rent(rowBytes * (endRow - firstRow));
                ResampleKernels.Horizontal(source, firstRow, endRow, horizontal, window.Left, window.Width, temp);
                input = temp.AsSpan(0, rowBytes * (endRow - firstRow));
                inputStride = rowBytes;
            }
            else
            {
                input = source.Pixels[(((firstRow * source.Width) + window.Left) * 3)..];
                inputStride = source.Stride;
            }

            if (vertical is null)
            {
                for (var y = 0; y < window.Height; y++)
                {
                    sink.Row(y, input.Slice(y * inputStride, rowBytes));
                }

                return;
            }

            line = ArrayPool<byte>.Shared.Rent(rowBytes);
            for (var y = 0; y < window.Height; y++)
            {
                var yy = window.Top + y;
                ResampleKernels.Vertical(input, inputStride, vertical.Start[yy] - firstRow, vertical.TapsOf(yy), line.AsSpan(0, rowBytes));
                sink.Row(y, line.AsSpan(0, rowBytes));
            }
        }
        finally
        {
            if (temp is not null)
            {
                ArrayPool<byte>.Shared.Return(temp);
            }

            if (line is not null)
            {
                ArrayPool<byte>.Shared.Return(line);
            }
        }
    }

    /// <summary>Per output position: first source index, tap count, and the fixed-point taps (KernelSize apart).</summary>
    internal sealed class Coefficients
    {
        private Coefficients(int[] start, int[] count, int[] taps, int kernelSize)
        {
            Start = start;
            Count = count;
            Taps = taps;
            KernelSize = kernelSize;
        }

        public int[] Start { get; }

        public int[] Count { get; }

        public int[] Taps { get; }

        public int KernelSize { get; }

        public ReadOnlySpan<int> TapsOf(int output) => Taps.AsSpan(output * KernelSize, Count[output]);

        /// <summary>The source range [first, end) that outputs [first, first + count) read.</summary>
        public (int First, int End) Span(int first, int count)
        {
            int lo = int.MaxValue, hi = 0;
            for (var i = first; i < first + count; i++)
            {
                lo = Math.Min(lo, Start[i]);
                hi = Math.Max(hi, Start[i] + Count[i]);
            }

            return (lo, hi);
        }

        public static Coefficients For(int inSize, int outSize, (Kernel Filter, double Support) filter)
        {
            if (Cache.TryGetValue((inSize, outSize, filter.Filter), out var cached))
            {
                return cached;
            }

            if (Cache.Count > 1024)
            {
                Cache.Clear(); // a data set of many different sizes: keep the cache bounded
            }

            var computed = Precompute(inSize, outSize, filter);
            Cache[(inSize, outSize, filter.Filter)] = computed;
            return computed;
        }

        /// <summary>PIL's precompute_coeffs, operation for operation (the box is the whole image: 0 and inSize, passed as floats).</summary>
        private static Coefficients Precompute(int inSize, int outSize, (Kernel Filter, double Support) filter)
        {
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

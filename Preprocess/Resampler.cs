using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess;

/// <summary>Resampling filters, as PIL names them.</summary>
public enum ResampleFilter
{
    /// <summary>Nearest neighbour.</summary>
    Nearest = 0,
    /// <summary>Bilinear (triangle filter, antialiased when downscaling).</summary>
    Bilinear = 2,
    /// <summary>Bicubic (a = −0.5, antialiased when downscaling).</summary>
    Bicubic = 3,
}

/// <summary>
/// Image resizing that reproduces PIL's <c>Image.resize</c> — which torchvision's transforms use on
/// PIL images — bit for bit: separable convolution with the filter's support widened by the
/// downscaling factor (antialiasing), 22-bit fixed-point coefficients, horizontal pass first with
/// an 8-bit intermediate; nearest neighbour by PIL's affine stepping.
/// </summary>
public static class Resampler
{
    /// <summary>A resized copy of <paramref name="source"/> (a copy even when the size is unchanged).</summary>
    public static RgbImage Resize(RgbImage source, int width, int height, ResampleFilter filter)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentException($"resize target {width}×{height} is not a valid size.");
        }

        if (width == source.Width && height == source.Height)
        {
            return RgbImage.FromPixels(width, height, source.Pixels);
        }

        return filter switch
        {
            ResampleFilter.Nearest => PilResample.Nearest(source, width, height),
            ResampleFilter.Bilinear => PilResample.Convolve(source, width, height, PilResample.Bilinear),
            ResampleFilter.Bicubic => PilResample.Convolve(source, width, height, PilResample.Bicubic),
            _ => throw new ArgumentException($"resample filter {filter} is not supported."),
        };
    }

    /// <summary>The size torchvision's <c>Resize(int)</c> gives: the shorter side becomes <paramref name="size"/>, the other keeps the aspect ratio (truncated).</summary>
    /// <exception cref="ArgumentException">The result would have more than <see cref="ImageDecoder.MaxPixels"/> pixels (a very elongated image).</exception>
    public static (int Width, int Height) ShorterSideSize(int width, int height, int size)
    {
        (long w, long h) = width <= height
            ? (width == size ? ((long)width, (long)height) : ((long)size, (long)size * height / width))
            : (height == size ? ((long)width, (long)height) : ((long)size * width / height, (long)size));
        return w * h <= ImageDecoder.MaxPixels
            ? ((int)w, (int)h)
            : throw new ArgumentException($"resizing a {width}×{height} image to a shorter side of {size} gives {w}×{h} pixels, more than the {ImageDecoder.MaxPixels} allowed.");
    }
}

using System.Buffers;

namespace OnnxCnn.Preprocess;

/// <summary>
/// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC), no row padding. The pixel
/// buffer comes from a shared pool: dispose images you no longer need.
/// </summary>
public sealed class RgbImage : IDisposable
{
    private byte[]? pixels;

    private RgbImage(int width, int height, byte[] pixels)
    {
        Width = width;
        Height = height;
        this.pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Bytes per row (3 × width).</summary>
    public int Stride => Width * 3;

    /// <summary>The pixels, HWC RGB.</summary>
    public Span<byte> Pixels => (pixels ?? throw new ObjectDisposedException(nameof(RgbImage))).AsSpan(0, Stride * Height);

    /// <summary>One row of pixels.</summary>
    public Span<byte> Row(int y) => Pixels.Slice(y * Stride, Stride);

    /// <summary>A pooled image with unspecified contents.</summary>
    public static RgbImage Create(int width, int height)
    {
        if (width <= 0 || height <= 0 || (long)width * height * 3 > Array.MaxLength)
        {
            throw new ArgumentException($"image size {width}×{height} is not valid.");
        }

        return new RgbImage(width, height, ArrayPool<byte>.Shared.Rent(width * height * 3));
    }

    /// <summary>A pooled image holding a copy of HWC RGB pixels.</summary>
    public static RgbImage FromPixels(int width, int height, ReadOnlySpan<byte> rgb)
    {
        var image = Create(width, height);
        if (rgb.Length != image.Pixels.Length)
        {
            image.Dispose();
            throw new ArgumentException($"{rgb.Length} bytes are not {width}×{height}×3.");
        }

        rgb.CopyTo(image.Pixels);
        return image;
    }

    /// <summary>Returns the pixel buffer to the pool.</summary>
    public void Dispose()
    {
        var p = Interlocked.Exchange(ref pixels, null);
        if (p is not null)
        {
            ArrayPool<byte>.Shared.Return(p);
        }
    }
}

using System.Buffers;
using System.Runtime.InteropServices;
using static OnnxCnn.Preprocess.Internal.TurboJpeg.TurboJpegNative;

namespace OnnxCnn.Preprocess.Internal.TurboJpeg;

/// <summary>
/// JPEG → <see cref="RgbImage"/> through TurboJPEG: accurate integer IDCT and smooth chroma
/// upsampling (what PIL's libjpeg-turbo decode uses, so results are bit-identical), DCT-domain
/// downscaling, CMYK/YCCK converted like PIL, EXIF orientation applied afterwards.
/// </summary>
/// <remarks>
/// <para>Errors, decided like PIL: a fatal libjpeg error always fails. A warning (libjpeg's
/// "corrupt data" class, e.g. junk between segments) fails only when the datastream is
/// truncated, i.e. ends before its EOI marker: PIL raises "image file is truncated" then
/// (even when only the EOI marker is missing) and otherwise accepts what libjpeg recovered.</para>
/// <para>Each thread keeps its own decompressor (a TurboJPEG handle serves one call at a time),
/// replaced after any failure. <c>TJFLAG_LIMITSCANS</c> refuses progressive files with more than
/// 500 scans (a known decode-time denial of service); PIL has no such limit.</para>
/// </remarks>
internal static unsafe class JpegDecoder
{
    private const int Flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS;

    [ThreadStatic]
    private static TurboJpegHandle? decompressor;

    private static TurboJpegHandle Decompressor => decompressor ??= TurboJpegHandle.CreateDecompressor();

    /// <summary>
    /// Drops this thread's decompressor after a failure: libjpeg-turbo 2.1's
    /// tjDecompressHeader3 returns from an error without resetting the libjpeg state, and the
    /// next header read on that handle then fails on a perfectly good file.
    /// </summary>
    private static void DiscardDecompressor()
    {
        var handle = decompressor;
        decompressor = null;
        handle?.Dispose();
    }

    public static ImageInfo ReadInfo(ReadOnlySpan<byte> jpeg, string name)
    {
        var header = ReadHeader(jpeg, name);
        return new ImageInfo(ImageFormat.Jpeg, header.Width, header.Height, ExifOrientation.FromJpeg(jpeg));
    }

    public static RgbImage Decode(ReadOnlySpan<byte> jpeg, string name, DecodeOptions options)
    {
        var header = ReadHeader(jpeg, name);
        var orientation = options.ApplyExifOrientation ? ExifOrientation.FromJpeg(jpeg) : 1;
        var (minWidth, minHeight) = orientation >= 5 ? (options.MinHeight, options.MinWidth) : (options.MinWidth, options.MinHeight);
        var (width, height) = JpegScaling.Choose(header.Width, header.Height, minWidth, minHeight);
        if ((long)width * height > ImageDecoder.MaxPixels)
        {
            throw new InvalidDataException($"JPEG file '{name}' is {width}×{height} pixels, more than the {ImageDecoder.MaxPixels} an image may have.");
        }

        var image = header.Colorspace is TJCS_CMYK or TJCS_YCCK
            ? DecodeCmyk(jpeg, name, width, height)
            : DecodeRgb(jpeg, name, width, height);
        if (orientation == 1)
        {
            return image;
        }

        using (image)
        {
            return ExifOrientation.Apply(image, orientation);
        }
    }

    private static RgbImage DecodeRgb(ReadOnlySpan<byte> jpeg, string name, int width, int height)
    {
        var image = RgbImage.Create(width, height);
        try
        {
            fixed (byte* dst = image.Pixels)
            {
                Decompress(jpeg, name, dst, width, height, TJPF_RGB);
            }

            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private static RgbImage DecodeCmyk(ReadOnlySpan<byte> jpeg, string name, int width, int height)
    {
        var length = width * height * 4;
        var cmyk = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            fixed (byte* dst = cmyk)
            {
                Decompress(jpeg, name, dst, width, height, TJPF_CMYK);
            }

            var image = RgbImage.Create(width, height);
            PixelConversions.InvertedCmykToRgb(cmyk.AsSpan(0, length), image.Pixels);
            return image;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cmyk);
        }
    }

    private static void Decompress(ReadOnlySpan<byte> jpeg, string name, byte* dst, int width, int height, int pixelFormat)
    {
        var handle = Decompressor;
        if (Decompress2(handle, jpeg, dst, width, height, pixelFormat, Flags) == 0)
        {
            return;
        }

        var text = ErrorText(handle);
        if (GetErrorCode(handle) == TJERR_WARNING)
        {
            // tjGetErrorCode says "warning" once any warning occurred, even if a fatal error
            // followed; the message is the first warning's unless a fatal error replaced it.
            // Decoding again, stopping at the first warning, yields that first warning's text:
            // the same text means nothing fatal followed. (The rows this second run writes before
            // stopping are the very rows the first run wrote.)
            Decompress2(handle, jpeg, dst, width, height, pixelFormat, Flags | TJFLAG_STOPONWARNING);
            var firstWarning = ErrorText(handle);
            DiscardDecompressor();
            if (firstWarning == text)
            {
                if (!JpegMarkers.IsTruncated(jpeg))
                {
                    return; // libjpeg recovered from corrupt data; PIL accepts such images too
                }

                throw Truncated(name, text);
            }
        }

        DiscardDecompressor();
        throw Undecodable(name, text);
    }

    private static int Decompress2(TurboJpegHandle handle, ReadOnlySpan<byte> jpeg, byte* dst, int width, int height, int pixelFormat, int flags)
    {
        fixed (byte* src = jpeg)
        {
            return TurboJpegNative.Decompress2(handle, src, new CULong((nuint)jpeg.Length), dst, width, 0, height, pixelFormat, flags);
        }
    }

    private static InvalidDataException Truncated(string name, string why) => new($"JPEG file '{name}' is truncated: {why}.");

    private static InvalidDataException Undecodable(string name, string why) => new($"JPEG file '{name}' cannot be decoded: {why}.");

    private static (int Width, int Height, int Colorspace) ReadHeader(ReadOnlySpan<byte> jpeg, string name)
    {
        var handle = Decompressor;
        int width = 0, height = 0, subsampling = -1, colorspace = -1;
        int rc;
        fixed (byte* src = jpeg)
        {
            rc = DecompressHeader3(handle, src, new CULong((nuint)jpeg.Length), &width, &height, &subsampling, &colorspace);
        }

        // tjDecompressHeader3 also returns -1 after a mere warning (junk between segments), and
        // when it cannot name the chroma subsampling (unusual sampling factors), which
        // tjDecompress2 decodes regardless. A fatal error returns before the size is filled in.
        if (rc != 0 && (width <= 0 || height <= 0 || colorspace < 0))
        {
            var why = ErrorText(handle);
            DiscardDecompressor();
            throw JpegMarkers.IsTruncated(jpeg) ? Truncated(name, why) : Undecodable(name, why);
        }

        // A stream that ends before its frame header reads as "tables only": success, no size.
        if (rc == 0 && (width <= 0 || height <= 0))
        {
            var why = ErrorText(handle);
            DiscardDecompressor();
            throw JpegMarkers.IsTruncated(jpeg)
                ? Truncated(name, why)
                : Undecodable(name, "it holds no image (a tables-only JPEG datastream)");
        }

        return (width, height, colorspace);
    }
}

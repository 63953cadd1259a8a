using System.Buffers;
using OnnxCnn.Preprocess.Internal.LibPng;
using OnnxCnn.Preprocess.Internal.TurboJpeg;

namespace OnnxCnn.Preprocess;

/// <summary>
/// Decodes JPEG and PNG images to 8-bit RGB (<see cref="RgbImage"/>) through the system's
/// libjpeg-turbo (TurboJPEG API, Debian <c>libturbojpeg0</c>) and libpng (simplified API,
/// <c>libpng16-16</c>). The format is recognised from the data's first bytes, never from the
/// file name. Results match PIL's: JPEG bit-exactly (same libjpeg-turbo, accurate IDCT),
/// including grey, CMYK/YCCK and EXIF orientation; PNG exactly for 8-bit files, with alpha
/// composited on white. Safe to call from many threads at once.
/// </summary>
/// <remarks>
/// Every malformed, truncated or unrecognised input throws <see cref="InvalidDataException"/>
/// naming the file (the <c>name</c> argument) and giving the codec's own reason.
/// </remarks>
public static class ImageDecoder
{
    /// <summary>
    /// The most pixels a decoded image may have (178,956,970, PIL's decompression-bomb limit): a
    /// header can claim any size, so larger images are refused before their pixels are allocated.
    /// A JPEG counts at the size it is decoded to (after DCT-domain downscaling).
    /// </summary>
    public const long MaxPixels = 2L * (1024 * 1024 * 1024 / 4 / 3);

    private static ReadOnlySpan<byte> JpegMagic => [0xFF, 0xD8, 0xFF];

    private static ReadOnlySpan<byte> PngMagic => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The format whose signature starts <paramref name="data"/>, or null.</summary>
    public static ImageFormat? DetectFormat(ReadOnlySpan<byte> data) =>
        data.StartsWith(JpegMagic) ? ImageFormat.Jpeg
        : data.StartsWith(PngMagic) ? ImageFormat.Png
        : null;

    /// <summary>Decodes an encoded image held in memory.</summary>
    /// <param name="data">The whole encoded file.</param>
    /// <param name="name">What to call the image in error messages (usually its path).</param>
    /// <param name="options">Downscaling and orientation; <see cref="DecodeOptions.Default"/> when null.</param>
    /// <returns>A pooled image: dispose it when done.</returns>
    /// <exception cref="InvalidDataException">The data is not a supported image, or is corrupt or truncated.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string name, DecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= DecodeOptions.Default;
        return Format(data, name) switch
        {
            ImageFormat.Jpeg => JpegDecoder.Decode(data, name, options),
            _ => PngDecoder.Decode(data, name),
        };
    }

    /// <summary>Reads and decodes an image file.</summary>
    /// <param name="path">The file; also its name in error messages.</param>
    /// <param name="options">Downscaling and orientation; <see cref="DecodeOptions.Default"/> when null.</param>
    /// <returns>A pooled image: dispose it when done.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a supported image, or is corrupt or truncated.</exception>
    public static RgbImage DecodeFile(string path, DecodeOptions? options = null)
    {
        using var file = ReadFile(path);
        return Decode(file.Data, path, options);
    }

    /// <summary>Format, size and EXIF orientation from the header, without decoding the pixels.</summary>
    /// <param name="data">The encoded file (its start is enough for a PNG; a JPEG needs everything up to its frame header).</param>
    /// <param name="name">What to call the image in error messages.</param>
    /// <exception cref="InvalidDataException">The data is not a supported image or its header is broken.</exception>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Format(data, name) switch
        {
            ImageFormat.Jpeg => JpegDecoder.ReadInfo(data, name),
            _ => PngDecoder.ReadInfo(data, name),
        };
    }

    /// <summary>Format, size and EXIF orientation of an image file, without decoding the pixels.</summary>
    /// <param name="path">The file; also its name in error messages.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a supported image or its header is broken.</exception>
    public static ImageInfo ReadInfoFile(string path)
    {
        using var file = ReadFile(path);
        return ReadInfo(file.Data, path);
    }

    private static ImageFormat Format(ReadOnlySpan<byte> data, string name) =>
        DetectFormat(data) ?? throw new InvalidDataException(data.IsEmpty
            ? $"image file '{name}' is empty (supported formats: JPEG, PNG)."
            : $"image file '{name}': the format is not recognised from its first bytes (supported formats: JPEG, PNG).");

    private static PooledFile ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"image file '{path}' not found.", path);
        }

        using var handle = File.OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        if (length > Array.MaxLength)
        {
            throw new InvalidDataException($"image file '{path}' is {length} bytes, too large to decode.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            var read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(read, (int)length - read), read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return new PooledFile(buffer, read);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A file's bytes in a pooled buffer.</summary>
    private readonly struct PooledFile(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlySpan<byte> Data => buffer.AsSpan(0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }
}

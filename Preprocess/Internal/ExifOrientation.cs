using System.Buffers.Binary;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// The EXIF orientation tag (0x0112 in IFD0 of the TIFF structure inside a JPEG's Exif APP1
/// segment), and the flip/rotate that makes an image upright, as PIL's
/// <c>ImageOps.exif_transpose</c> does it.
/// </summary>
internal static class ExifOrientation
{
    private const ushort OrientationTag = 0x0112;
    private const ushort TypeShort = 3, TypeLong = 4;

    /// <summary>The orientation of a JPEG, 1 to 8; 1 when there is no valid tag.</summary>
    public static int FromJpeg(ReadOnlySpan<byte> jpeg) => FromTiff(JpegMarkers.FindExif(jpeg));

    /// <summary>The orientation in a TIFF header + IFD0 (either byte order), 1 to 8; 1 when absent or malformed.</summary>
    public static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 1;
        }

        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I')
        {
            little = true;
        }
        else if (tiff[0] == 'M' && tiff[1] == 'M')
        {
            little = false;
        }
        else
        {
            return 1;
        }

        if (U16(tiff, 2, little) != 42)
        {
            return 1;
        }

        var ifd = U32(tiff, 4, little);
        if (ifd > (uint)tiff.Length - 2)
        {
            return 1;
        }

        int count = U16(tiff, (int)ifd, little);
        for (var i = 0; i < count; i++)
        {
            var entry = (long)ifd + 2 + (12L * i);
            if (entry + 12 > tiff.Length)
            {
                return 1;
            }

            var at = (int)entry;
            if (U16(tiff, at, little) != OrientationTag)
            {
                continue;
            }

            var type = U16(tiff, at + 2, little);
            var valueCount = U32(tiff, at + 4, little);
            long value = (type, valueCount) switch
            {
                (TypeShort, 1) => U16(tiff, at + 8, little),
                (TypeLong, 1) => U32(tiff, at + 8, little),
                _ => 0,
            };
            return value is >= 1 and <= 8 ? (int)value : 1;
        }

        return 1;
    }

    /// <summary>
    /// A new image holding <paramref name="image"/> made upright for <paramref name="orientation"/>
    /// (2 to 8; the caller keeps ownership of <paramref name="image"/>).
    /// </summary>
    public static RgbImage Apply(RgbImage image, int orientation)
    {
        int w = image.Width, h = image.Height, stride = image.Stride;
        var last = (h - 1) * stride;
        var right = (w - 1) * 3;

        // Output pixel (x, y) comes from source byte offset start + x * dx + y * dy.
        var (start, dx, dy) = orientation switch
        {
            2 => (right, -3, stride),                     // FLIP_LEFT_RIGHT
            3 => (last + right, -3, -stride),             // ROTATE_180
            4 => (last, 3, -stride),                      // FLIP_TOP_BOTTOM
            5 => (0, stride, 3),                          // TRANSPOSE
            6 => (last, -stride, 3),                      // ROTATE_270 (90° clockwise)
            7 => (last + right, -stride, -3),             // TRANSVERSE
            8 => (right, stride, -3),                     // ROTATE_90 (90° counter-clockwise)
            _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation must be 2 to 8 here."),
        };

        var swap = orientation >= 5;
        var result = RgbImage.Create(swap ? h : w, swap ? w : h);
        ReadOnlySpan<byte> src = image.Pixels;
        for (var y = 0; y < result.Height; y++)
        {
            var row = result.Row(y);
            var from = start + (y * dy);
            for (var x = 0; x < row.Length; x += 3, from += dx)
            {
                row[x] = src[from];
                row[x + 1] = src[from + 1];
                row[x + 2] = src[from + 2];
            }
        }

        return result;
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt16BigEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[at..]);
}

using System.Buffers.Binary;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// Walks the marker segments of a JPEG datastream in managed code, for what TurboJPEG does not
/// tell us: the Exif block (for the orientation tag) and whether the stream reaches its EOI.
/// Malformed input never throws here; it just ends the walk.
/// </summary>
internal static class JpegMarkers
{
    private const byte Soi = 0xD8, Eoi = 0xD9, Sos = 0xDA, App1 = 0xE1, Tem = 0x01;

    /// <summary>
    /// The TIFF data of the first APP1 segment that starts <c>Exif\0</c> before the first scan
    /// (as PIL picks it), or an empty span.
    /// </summary>
    public static ReadOnlySpan<byte> FindExif(ReadOnlySpan<byte> jpeg)
    {
        var pos = 2;
        while (NextMarker(jpeg, ref pos, out var marker))
        {
            if (marker is Sos or Eoi)
            {
                break;
            }

            if (HasNoLength(marker))
            {
                continue;
            }

            if (!TrySegment(jpeg, pos, out var payload))
            {
                break;
            }

            if (marker == App1 && payload.Length >= 6 && payload[..5].SequenceEqual("Exif\0"u8))
            {
                return payload[6..];
            }

            pos += 2 + payload.Length;
        }

        return [];
    }

    /// <summary>
    /// True when the datastream ends before its EOI marker: the data PIL calls "truncated".
    /// Entropy-coded data is skipped the way a decoder does (stuffed <c>FF 00</c> and restart
    /// markers belong to the scan); any other marker ends the scan.
    /// </summary>
    public static bool IsTruncated(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != Soi)
        {
            return true;
        }

        var pos = 2;
        while (NextMarker(jpeg, ref pos, out var marker))
        {
            if (marker == Eoi)
            {
                return false;
            }

            if (HasNoLength(marker))
            {
                continue;
            }

            if (!TrySegment(jpeg, pos, out var payload))
            {
                return true;
            }

            pos += 2 + payload.Length;
            if (marker == Sos)
            {
                pos = SkipEntropyData(jpeg, pos);
            }
        }

        return true;
    }

    /// <summary>
    /// Moves <paramref name="pos"/> past the next marker; false at the end of the data. Junk
    /// before the marker and fill bytes are skipped, as libjpeg (with a warning) and PIL do.
    /// </summary>
    private static bool NextMarker(ReadOnlySpan<byte> jpeg, ref int pos, out byte marker)
    {
        marker = 0;
        var ff = pos < jpeg.Length ? jpeg[pos..].IndexOf((byte)0xFF) : -1;
        if (ff < 0)
        {
            return false;
        }

        pos += ff;
        while (pos < jpeg.Length && jpeg[pos] == 0xFF)
        {
            pos++;
        }

        if (pos >= jpeg.Length)
        {
            return false;
        }

        marker = jpeg[pos++];
        return true;
    }

    private static bool HasNoLength(byte marker) => marker is Soi or Tem or (>= 0xD0 and <= 0xD7);

    /// <summary>The payload of the segment whose 2-byte length starts at <paramref name="pos"/>.</summary>
    private static bool TrySegment(ReadOnlySpan<byte> jpeg, int pos, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (pos + 2 > jpeg.Length)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[pos..]);
        if (length < 2 || pos + length > jpeg.Length)
        {
            return false;
        }

        payload = jpeg.Slice(pos + 2, length - 2);
        return true;
    }

    /// <summary>The position of the first marker after entropy-coded data at <paramref name="pos"/> (or the end).</summary>
    private static int SkipEntropyData(ReadOnlySpan<byte> jpeg, int pos)
    {
        while (true)
        {
            var ff = jpeg[pos..].IndexOf((byte)0xFF);
            if (ff < 0)
            {
                return jpeg.Length;
            }

            pos += ff;
            var next = pos + 1 < jpeg.Length ? jpeg[pos + 1] : -1;
            if (next < 0)
            {
                return jpeg.Length;
            }

            if (next == 0x00 || next is >= 0xD0 and <= 0xD7)
            {
                pos += 2;
                continue;
            }

            if (next == 0xFF)
            {
                pos++;
                continue;
            }

            return pos;
        }
    }
}

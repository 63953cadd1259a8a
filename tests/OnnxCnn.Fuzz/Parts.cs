using System.Buffers.Binary;

namespace OnnxCnn.Fuzz;

/// <summary>
/// Several files in one fuzz input: each part but the last is a 4-byte little-endian length and
/// that many bytes (clamped to what is left); the last part is the rest. The fuzzer mutates the
/// lengths along with the contents, so parts move, grow, shrink and go missing.
/// </summary>
public static class Parts
{
    public static byte[][] Split(byte[] input, int count)
    {
        var result = new byte[count][];
        var offset = 0;
        for (var i = 0; i < count - 1; i++)
        {
            var left = input.Length - offset;
            var length = left >= 4 ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(offset)), (uint)(left - 4)) : 0;
            offset += Math.Min(4, left);
            result[i] = input.AsSpan(offset, length).ToArray();
            offset += length;
        }

        result[^1] = input.AsSpan(offset).ToArray();
        return result;
    }

    public static byte[] Join(params byte[][] parts)
    {
        using var stream = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        for (var i = 0; i < parts.Length; i++)
        {
            if (i < parts.Length - 1)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)parts[i].Length);
                stream.Write(length);
            }

            stream.Write(parts[i]);
        }

        return stream.ToArray();
    }
}

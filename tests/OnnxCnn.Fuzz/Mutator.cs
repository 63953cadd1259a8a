using System.Buffers.Binary;

namespace OnnxCnn.Fuzz;

/// <summary>
/// Seeded, structure-aware mutations of valid inputs, the kinds AFL's havoc stage uses: bit
/// flips, interesting bytes and integers (both byte orders) over length and size fields, varint
/// rewrites (protobuf lengths), block deletion, duplication and insertion, truncation, dictionary
/// tokens, and splices of two inputs.
/// </summary>
public sealed class Mutator(Random random, IReadOnlyList<byte[]> dictionary)
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x10, 0x20, 0x40];

    private static readonly long[] InterestingIntegers = [0, 1, -1, 2, 16, 64, 255, 256, 1024, 4096, 32767, 32768, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 40];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        var rounds = 1 << random.Next(0, 4);
        for (var r = 0; r < rounds; r++)
        {
            MutateOnce(data, corpus);
        }

        return [.. data];
    }

    private void MutateOnce(List<byte> data, IReadOnlyList<byte[]> corpus)
    {
        if (data.Count == 0)
        {
            data.Add((byte)random.Next(256));
            return;
        }

        var at = random.Next(data.Count);
        switch (random.Next(12))
        {
            case 0:
                data[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                data[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2:
                data[at] = (byte)random.Next(256);
                break;
            case 3:
                WriteInteger(data, at);
                break;
            case 4:
                WriteVarint(data, at);
                break;
            case 5:
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(Math.Max(1, data.Count / 8))));
                break;
            case 6:
                var length = Math.Min(data.Count - at, 1 + random.Next(64));
                data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, length));
                break;
            case 7:
                data.RemoveRange(at, data.Count - at);
                break;
            case 8 or 9 when dictionary.Count > 0:
                var token = dictionary[random.Next(dictionary.Count)];
                if (random.Next(2) == 0)
                {
                    data.InsertRange(at, token);
                }
                else
                {
                    for (var i = 0; i < token.Length && at + i < data.Count; i++)
                    {
                        data[at + i] = token[i];
                    }
                }

                break;
            case 10 when corpus.Count > 0:
                var other = corpus[random.Next(corpus.Count)];
                var from = random.Next(other.Length + 1);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            default:
                data.InsertRange(at, Enumerable.Range(0, 1 + random.Next(16)).Select(_ => (byte)random.Next(256)));
                break;
        }
    }

    private void WriteInteger(List<byte> data, int at)
    {
        var value = InterestingIntegers[random.Next(InterestingIntegers.Length)] + random.Next(-1, 2);
        var width = new[] { 2, 4, 8 }[random.Next(3)];
        Span<byte> bytes = stackalloc byte[8];
        if (random.Next(2) == 0)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes, value);
            bytes = bytes[(8 - width)..];
        }

        for (var i = 0; i < width && at + i < data.Count; i++)
        {
            data[at + i] = bytes[i];
        }
    }

    private void WriteVarint(List<byte> data, int at)
    {
        // Replace the varint starting at `at` (if any) with an interesting value's varint.
        var end = at;
        while (end < data.Count && end - at < 10 && (data[end] & 0x80) != 0)
        {
            end++;
        }

        end = Math.Min(end + 1, data.Count);
        var value = (ulong)InterestingIntegers[random.Next(InterestingIntegers.Length)];
        var encoded = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            encoded.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);

        data.RemoveRange(at, end - at);
        data.InsertRange(at, encoded);
    }
}

using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OnnxCnn.Runtime;

/// <summary>
/// NumPy <c>.npy</c> files (format versions 1–3, C order, little-endian): float32, float64,
/// int32, int64, uint8 and bool. Anything else is an error naming the file and the problem.
/// </summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a tensor from an .npy file.</summary>
    public static Tensor Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"npy file '{path}' not found.", path);
        }

        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a tensor from a stream; <paramref name="name"/> is used in error messages.</summary>
    public static Tensor Read(Stream stream, string name = "<stream>")
    {
        Span<byte> prefix = stackalloc byte[10];
        if (!TryFill(stream, prefix) || !prefix[..6].SequenceEqual(Magic))
        {
            throw Bad(name, "not an .npy file (missing the \\x93NUMPY magic)");
        }

        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            headerLength = prefix[8] | (prefix[9] << 8);
        }
        else if (major is 2 or 3)
        {
            Span<byte> rest = stackalloc byte[2];
            if (!TryFill(stream, rest))
            {
                throw Bad(name, "truncated header");
            }

            headerLength = prefix[8] | (prefix[9] << 8) | (rest[0] << 16) | (rest[1] << 24);
        }
        else
        {
            throw Bad(name, $"format version {major} is not supported (1, 2 and 3 are)");
        }

        if (headerLength is <= 0 or > 1 << 20)
        {
            throw Bad(name, $"header length {headerLength} is not plausible");
        }

        var headerBytes = new byte[headerLength];
        if (!TryFill(stream, headerBytes))
        {
            throw Bad(name, "truncated header");
        }

        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header, name);
        if (fortran)
        {
            throw Bad(name, "Fortran-ordered arrays are not supported (save with C order)");
        }

        var elementSize = descr switch
        {
            "<f8" or "<i8" => 8,
            "<f4" or "<i4" => 4,
            "|u1" or "<u1" or "|b1" => 1,
            _ => throw Bad(name, $"dtype '{Printable(descr)}' is not supported (float32 <f4, float64 <f8, int32 <i4, int64 <i8, uint8 |u1, bool |b1; little-endian)"),
        };
        var elements = 1L;
        foreach (var d in shape)
        {
            // Checked against the data actually present before anything is allocated: a header
            // may declare any shape.
            if (d > Array.MaxLength || (elements = elements * d) > Array.MaxLength)
            {
                throw Bad(name, $"shape {Tensor.FormatShape(shape)} has more elements than a tensor can hold");
            }
        }

        if (stream.CanSeek && elements * elementSize > stream.Length - stream.Position)
        {
            throw Bad(name, $"data is shorter than shape {Tensor.FormatShape(shape)} of {descr} needs ({elements * elementSize} bytes, {stream.Length - stream.Position} present)");
        }

        // A stream whose length is unknown (a pipe) is read in chunks up to the declared size before the
        // tensor is allocated, so a small stream that declares a huge shape fails on its length, not on memory.
        List<byte[]>? staged = null;
        if (!stream.CanSeek && elements * elementSize > StagingThreshold)
        {
            staged = ReadStaged(stream, elements * elementSize)
                ?? throw Bad(name, $"data is shorter than shape {Tensor.FormatShape(shape)} of {descr} needs ({elements * elementSize} bytes)");
        }

        Tensor tensor = descr switch
        {
            "<f4" => Tensor<float>.Create(shape),
            "<f8" => Tensor<double>.Create(shape),
            "<i4" => Tensor<int>.Create(shape),
            "<i8" => Tensor<long>.Create(shape),
            "|u1" or "<u1" => Tensor<byte>.Create(shape),
            "|b1" => Tensor<bool>.Create(shape),
            _ => throw new InvalidOperationException("unreachable: dtype checked above"),
        };
        try
        {
            if (staged is not null)
            {
                var at = 0;
                foreach (var chunk in staged)
                {
                    chunk.CopyTo(tensor.Bytes[at..]);
                    at += chunk.Length;
                }
            }
            else if (!TryFill(stream, tensor.Bytes))
            {
                throw Bad(name, $"data is shorter than shape {tensor.ShapeText} of {descr} needs ({tensor.ByteLength} bytes)");
            }

            if (descr == "|b1")
            {
                foreach (var b in tensor.Bytes)
                {
                    if (b > 1)
                    {
                        throw Bad(name, $"bool data holds byte value {b}");
                    }
                }
            }

            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Writes a host tensor to an .npy file (version 1.0), atomically: a failure leaves no file behind.</summary>
    public static void Write(string path, Tensor tensor)
    {
        var temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                Write(stream, tensor);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes a host tensor in .npy format (version 1.0) to a stream.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        if (!tensor.IsOnHost)
        {
            throw new ArgumentException($"tensor lives on {tensor.Location}; copy it to the host before writing .npy.");
        }

        var descr = tensor.ElementType switch
        {
            TensorElementType.Float32 => "<f4",
            TensorElementType.Float64 => "<f8",
            TensorElementType.Int32 => "<i4",
            TensorElementType.Int64 => "<i8",
            TensorElementType.UInt8 => "|u1",
            TensorElementType.Bool => "|b1",
            var t => throw new NotSupportedException($".npy output of {t.Name()} tensors is not supported (float32, float64, int32, int64, uint8, bool are)."),
        };
        var dims = tensor.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray();
        var shapeText = dims.Length == 1 ? $"({dims[0]},)" : $"({string.Join(", ", dims)})";
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        // Magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64.
        var total = 10 + dict.Length + 1;
        var padded = (total + 63) / 64 * 64;
        var header = dict + new string(' ', padded - total) + "\n";
        Span<byte> prefix = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)];
        stream.Write(prefix);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(tensor.Bytes);
    }

    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header, string name)
    {
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success)
        {
            throw Bad(name, $"malformed header {Printable(header.Trim())}");
        }

        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new long[dims.Length];
        for (var i = 0; i < dims.Length; i++)
        {
            if (!long.TryParse(dims[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out result[i]))
            {
                throw Bad(name, $"shape entry '{Printable(dims[i])}' is not a dimension");
            }
        }

        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", result);
    }

    /// <summary>Above this many bytes, data from a stream of unknown length is staged before the tensor is allocated.</summary>
    private const long StagingThreshold = 16L << 20;

    /// <summary>Reads exactly <paramref name="length"/> bytes in chunks of at most 16 MiB; null when the stream ends first.</summary>
    private static List<byte[]>? ReadStaged(Stream stream, long length)
    {
        var chunks = new List<byte[]>();
        for (var left = length; left > 0; left -= chunks[^1].Length)
        {
            chunks.Add(new byte[Math.Min(left, StagingThreshold)]);
            if (!TryFill(stream, chunks[^1]))
            {
                return null;
            }
        }

        return chunks;
    }

    private static bool TryFill(Stream stream, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer[read..]);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private static InvalidDataException Bad(string name, string why) => new($"npy file '{name}': {why}.");

    /// <summary>Header text as it can appear in a one-line message: control characters escaped, at most 200 characters.</summary>
    private static string Printable(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            if (builder.Length >= 200)
            {
                return builder.Append('…').ToString();
            }

            _ = char.IsControl(c) || c is '\u2028' or '\u2029' ? builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}") : builder.Append(c);
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]+)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// Reads the <c>DT_NEEDED</c> entries of an ELF64 shared library and finds the first one that
/// cannot be loaded, so that a CUDA provider that fails to load is explained by the library it
/// lacks (e.g. <c>libcublasLt.so.13</c>) rather than by the loader's generic message.
/// </summary>
internal static class ElfNeeded
{
    private const uint PtLoad = 1;
    private const uint PtDynamic = 2;
    private const long DtNull = 0;
    private const long DtNeeded = 1;
    private const long DtStrtab = 5;

    /// <summary>The libraries <paramref name="path"/> names as needed, in order; an exception for a file that is not little-endian ELF64.</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        var file = File.ReadAllBytes(path);
        ReadOnlySpan<byte> elf = file;
        if (elf.Length < 64 || elf[0] != 0x7f || !elf[1..4].SequenceEqual("ELF"u8) || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException($"'{path}' is not a little-endian 64-bit ELF file.");
        }

        var phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[0x20..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x36..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x38..]);
        var loads = new List<(long VAddr, long Offset, long Size)>();
        (long Offset, long Size)? dynamic = null;
        for (var i = 0; i < phnum; i++)
        {
            var ph = elf.Slice(checked((int)(phoff + (i * phentsize))), 56);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            var vaddr = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[16..]);
            var size = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            if (type == PtLoad)
            {
                loads.Add((vaddr, offset, size));
            }
            else if (type == PtDynamic)
            {
                dynamic = (offset, size);
            }
        }

        if (dynamic is not { } dyn)
        {
            return [];
        }

        var needed = new List<long>();
        long strtab = -1;
        for (var at = dyn.Offset; at + 16 <= dyn.Offset + dyn.Size; at += 16)
        {
            var tag = BinaryPrimitives.ReadInt64LittleEndian(elf[(int)at..]);
            var value = BinaryPrimitives.ReadInt64LittleEndian(elf[(int)(at + 8)..]);
            if (tag == DtNull)
            {
                break;
            }

            if (tag == DtNeeded)
            {
                needed.Add(value);
            }
            else if (tag == DtStrtab)
            {
                strtab = value;
            }
        }

        if (strtab < 0)
        {
            throw new InvalidDataException($"'{path}' has a dynamic section without a string table.");
        }

        // DT_STRTAB is a virtual address; the load segment that holds it maps it to a file offset.
        var segment = loads.FirstOrDefault(l => strtab >= l.VAddr && strtab < l.VAddr + l.Size);
        var strings = strtab - segment.VAddr + segment.Offset;
        var result = new string[needed.Count];
        for (var i = 0; i < needed.Count; i++)
        {
            result[i] = ReadString(elf, checked((int)(strings + needed[i])));
        }

        return result;
    }

    /// <summary>
    /// The first needed library of <paramref name="path"/> that cannot be loaded (a file beside it
    /// counts as present, as its <c>$ORIGIN</c> run path would find it), or null when all load.
    /// </summary>
    public static string? FirstUnloadable(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        foreach (var name in Read(path))
        {
            if (File.Exists(Path.Combine(folder, name)))
            {
                continue;
            }

            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                return name;
            }

            NativeLibrary.Free(handle);
        }

        return null;
    }

    private static string ReadString(ReadOnlySpan<byte> elf, int at)
    {
        var end = elf[at..].IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? elf[at..] : elf.Slice(at, end));
    }
}

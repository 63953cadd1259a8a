using System.Buffers.Binary;
using System.Text;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// Writes a minimal little-endian ELF64 shared object: a header, one PT_LOAD covering the file,
/// one PT_DYNAMIC with DT_NEEDED entries and DT_STRTAB — the parts a loader (and
/// <c>ElfNeeded</c>) reads to learn what the library depends on.
/// </summary>
internal static class ElfFixture
{
    public static byte[] SharedLibrary(params string[] needed)
    {
        const int header = 64, phentsize = 56, phnum = 2;
        const long baseAddress = 0x400000;
        var strtab = new List<byte> { 0 };
        var offsets = new List<int>();
        foreach (var name in needed)
        {
            offsets.Add(strtab.Count);
            strtab.AddRange(Encoding.ASCII.GetBytes(name));
            strtab.Add(0);
        }

        var dynamicAt = header + (phnum * phentsize);
        var dynamicSize = (needed.Length + 2) * 16;
        var strtabAt = dynamicAt + dynamicSize;
        var file = new byte[strtabAt + strtab.Count];
        var span = file.AsSpan();
        "\u007FELF"u8.CopyTo(span);
        span[4] = 2; // ELFCLASS64
        span[5] = 1; // little-endian
        span[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x10..], 3); // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x12..], 62); // EM_X86_64
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x20..], header); // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x34..], header); // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x36..], phentsize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x38..], phnum);
        ProgramHeader(span[header..], 1 /* PT_LOAD */, 0, baseAddress, file.Length);
        ProgramHeader(span[(header + phentsize)..], 2 /* PT_DYNAMIC */, dynamicAt, baseAddress + dynamicAt, dynamicSize);
        var at = dynamicAt;
        foreach (var offset in offsets)
        {
            Dynamic(span[at..], 1 /* DT_NEEDED */, offset);
            at += 16;
        }

        Dynamic(span[at..], 5 /* DT_STRTAB */, baseAddress + strtabAt);
        strtab.ToArray().CopyTo(span[strtabAt..]);
        return file;
    }

    private static void ProgramHeader(Span<byte> ph, uint type, long offset, long vaddr, long size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(ph, type);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], (ulong)vaddr);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], (ulong)vaddr);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)size);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)size);
    }

    private static void Dynamic(Span<byte> entry, long tag, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(entry, tag);
        BinaryPrimitives.WriteInt64LittleEndian(entry[8..], value);
    }
}

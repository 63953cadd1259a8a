using System.Buffers.Binary;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>Headers that claim more pixels than <see cref="ImageDecoder.MaxPixels"/> are refused before the pixels are allocated.</summary>
public class DecodeLimitTests
{
    [Fact]
    public void Decode_PngHeaderClaimingTooManyPixels_RefusedBeforeAllocating()
    {
        // 20000×20000 RGBA: 400 M pixels, 1.6 GB of pixels for a file of a few dozen bytes (under the old 2 GB array limit it was allocated).
        var png = PngHeader(20_000, 20_000);
        Assert.Equal((20_000, 20_000), (ImageDecoder.ReadInfo(png, "bomb.png").Width, ImageDecoder.ReadInfo(png, "bomb.png").Height));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png, "bomb.png"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated for the claimed size");
        Assert.Equal("PNG file 'bomb.png' is 20000×20000 pixels, more than the 178956970 an image may have.", e.Message);
    }

    [Fact]
    public void Decode_JpegHeaderClaimingTooManyPixels_RefusedBeforeAllocating()
    {
        var jpeg = WithJpegSize(File.ReadAllBytes(RepoPaths.Fixture("decode", "jpeg_444.jpg")), 15_000, 15_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(jpeg, "bomb.jpg"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated for the claimed size");
        Assert.Equal("JPEG file 'bomb.jpg' is 15000×15000 pixels, more than the 178956970 an image may have.", e.Message);
    }

    [Fact]
    public void Decode_LargeJpegScaledDownUnderTheLimit_IsNotRefused()
    {
        // The limit counts the decoded size: 15000×15000 at 1/8 is 1875×1875, so the DCT-scaled path
        // gets past the check (libjpeg then recovers from the synthetic file's missing data, or not).
        var jpeg = WithJpegSize(File.ReadAllBytes(RepoPaths.Fixture("decode", "jpeg_444.jpg")), 15_000, 15_000);
        RgbImage? image = null;
        var e = Record.Exception(() => image = ImageDecoder.Decode(jpeg, "big.jpg", new DecodeOptions { MinWidth = 200, MinHeight = 200 }));
        using (image)
        {
            Assert.False(e?.Message.Contains("more than the", StringComparison.Ordinal) == true, e?.Message);
            Assert.True(image is null || (image.Width, image.Height) == (1875, 1875), $"decoded {image?.Width}×{image?.Height}");
        }
    }

    /// <summary>The fixture with its SOF0 frame size replaced.</summary>
    private static byte[] WithJpegSize(byte[] jpeg, int width, int height)
    {
        for (var i = 2; i + 9 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), (ushort)width);
                return jpeg;
            }
        }

        throw new InvalidOperationException("no SOF marker in the fixture");
    }

    /// <summary>A PNG of the given size (8-bit RGBA, valid CRCs) whose image data is a few bytes.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        byte[] ihdr = [.. "IHDR"u8, 0, 0, 0, 0, 0, 0, 0, 0, 8, 6, 0, 0, 0];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk(ihdr), .. Chunk([.. "IDAT"u8, 0x78, 0x9C, 0x03, 0, 0, 0, 0, 1]), .. Chunk("IEND"u8.ToArray())];
    }

    /// <summary>Length, type + data, CRC.</summary>
    private static byte[] Chunk(byte[] typeAndData)
    {
        var result = new byte[typeAndData.Length + 8];
        BinaryPrimitives.WriteInt32BigEndian(result, typeAndData.Length - 4);
        typeAndData.CopyTo(result, 4);
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(result.Length - 4), Crc32(typeAndData));
        return result;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}

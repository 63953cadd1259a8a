using System.Text;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Fuzz.Targets;

/// <summary>
/// JPEG and PNG through <see cref="ImageDecoder"/>: header read, full decode with EXIF
/// orientation, the DCT-scaled decode (JPEG) and a decode without orientation. What the header
/// says must agree with what the decoder returns.
/// </summary>
internal static class ImageTargets
{
    public static FuzzTarget Jpeg() => new()
    {
        Name = "jpeg",
        Description = "ImageDecoder on JPEG bytes: ReadInfo, Decode (EXIF orientation), DCT-scaled Decode, Decode without orientation",
        Execute = Decode,
        Expected = [typeof(InvalidDataException)],
        Seeds = () => Fixtures("*.jpg"),
        Dictionary = Tokens(new byte[] { 0xFF, 0xD8 }, new byte[] { 0xFF, 0xD9 }, new byte[] { 0xFF, 0xC0 }, new byte[] { 0xFF, 0xC2 }, new byte[] { 0xFF, 0xC4 }, new byte[] { 0xFF, 0xDA }, new byte[] { 0xFF, 0xDB }, new byte[] { 0xFF, 0xDD }, new byte[] { 0xFF, 0xE1 },
            new byte[] { 0xFF, 0xEE }, "Exif\0\0"u8.ToArray(), "MM\0*"u8.ToArray(), "II*\0"u8.ToArray(), new byte[] { 0x01, 0x12, 0x00, 0x03 }, new byte[] { 0x12, 0x01, 0x03, 0x00 }, "Adobe"u8.ToArray()),
    };

    public static FuzzTarget Png() => new()
    {
        Name = "png",
        Description = "ImageDecoder on PNG bytes: ReadInfo, Decode, Decode with a minimum size",
        Execute = Decode,
        Expected = [typeof(InvalidDataException)],
        Seeds = () => Fixtures("*.png"),
        Dictionary = Tokens(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, "IHDR"u8.ToArray(), "IDAT"u8.ToArray(), "IEND"u8.ToArray(), "PLTE"u8.ToArray(),
            "tRNS"u8.ToArray(), "gAMA"u8.ToArray(), "sRGB"u8.ToArray(), "iCCP"u8.ToArray(), "eXIf"u8.ToArray(), new byte[] { 0x78, 0x9C }, new byte[] { 0, 0, 0x40, 0 }),
    };

    private static void Decode(byte[] data)
    {
        var info = ImageDecoder.ReadInfo(data, "fuzz");
        using (var image = ImageDecoder.Decode(data, "fuzz"))
        {
            var (w, h) = info.Orientation >= 5 ? (info.Height, info.Width) : (info.Width, info.Height);
            Require(image.Width == w && image.Height == h, $"header says {w}×{h} upright, decode gave {image.Width}×{image.Height}");
        }

        using (var raw = ImageDecoder.Decode(data, "fuzz", new DecodeOptions { ApplyExifOrientation = false }))
        {
            Require(raw.Width == info.Width && raw.Height == info.Height, $"header says {info.Width}×{info.Height}, decode without orientation gave {raw.Width}×{raw.Height}");
        }

        // The DCT-scaled path (JPEG); PNG ignores the minimum and decodes at full size.
        using var small = ImageDecoder.Decode(data, "fuzz", new DecodeOptions { MinWidth = Math.Max(1, info.Width / 5), MinHeight = Math.Max(1, info.Height / 7) });
        Require(small.Width >= 1 && small.Height >= 1, $"scaled decode gave {small.Width}×{small.Height}");
    }

    internal static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("fuzz property violated: " + what);
        }
    }

    internal static IEnumerable<(string, byte[])> Fixtures(string pattern) =>
        Directory.GetFiles(RepoPaths.Fixture("decode"), pattern).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)));

    internal static byte[][] Tokens(params object[] tokens) =>
        tokens.Select(t => t is string s ? Encoding.UTF8.GetBytes(s) : (byte[])t).ToArray();
}

using System.Text;
using System.Text.RegularExpressions;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>The decode fixtures (tests/fixtures/decode, made by generate_decode.py) and their expected pixels.</summary>
internal static partial class DecodeFixtures
{
    public static string Folder { get; } = FindFolder();

    public static string Path(string name) => System.IO.Path.Combine(Folder, name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    /// <summary>An expected image: a uint8 HWC .npy with 3 channels.</summary>
    public static (int Width, int Height, byte[] Rgb) Expected(string npyName)
    {
        var bytes = File.ReadAllBytes(Path(npyName));
        if (bytes.Length < 10 || bytes[0] != 0x93 || !bytes.AsSpan(1, 5).SequenceEqual("NUMPY"u8))
        {
            throw new InvalidDataException($"{npyName}: not an .npy file");
        }

        int headerLength = bytes[8] | (bytes[9] << 8);
        var header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        var descr = DescrPattern().Match(header).Groups[1].Value;
        var shape = ShapePattern().Match(header).Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (descr != "|u1" || shape.Length != 3 || shape[2] != "3" || header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{npyName}: expected a C-order uint8 HxWx3 array, header {header}");
        }

        int height = int.Parse(shape[0], System.Globalization.CultureInfo.InvariantCulture);
        int width = int.Parse(shape[1], System.Globalization.CultureInfo.InvariantCulture);
        var data = bytes.AsSpan(10 + headerLength).ToArray();
        Assert.Equal(width * height * 3, data.Length);
        return (width, height, data);
    }

    /// <summary>The largest per-channel difference between an image and expected pixels of the same size.</summary>
    public static int MaxDelta(RgbImage image, (int Width, int Height, byte[] Rgb) expected)
    {
        Assert.Equal((expected.Width, expected.Height), (image.Width, image.Height));
        var actual = image.Pixels;
        var max = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            max = Math.Max(max, Math.Abs(actual[i] - expected.Rgb[i]));
        }

        return max;
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "OnnxCnn.sln")))
            {
                return System.IO.Path.Combine(dir.FullName, "tests", "fixtures", "decode");
            }
        }

        throw new InvalidOperationException($"no OnnxCnn.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

/// <summary>A temporary folder removed on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "onnxcnn-decode-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>Every bad input to <see cref="ImageDecoder"/> fails with a message naming the file.</summary>
public class DecodeErrorTests
{
    [Fact]
    public void DecodeFile_TruncatedJpeg_ThrowsTruncatedWithTurboJpegText()
    {
        var path = DecodeFixtures.Path("jpeg_truncated.jpg");
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeFile(path));
        Assert.Equal($"JPEG file '{path}' is truncated: Premature end of JPEG file.", e.Message);
    }

    [Fact]
    public void Decode_JpegWithoutEoi_ThrowsTruncatedLikePil()
    {
        var jpeg = DecodeFixtures.Bytes("jpeg_420.jpg");
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, jpeg.Length - 2), "no-eoi.jpg"));
        Assert.Equal("JPEG file 'no-eoi.jpg' is truncated: Premature end of JPEG file.", e.Message);
    }

    [Fact]
    public void Decode_JpegCutInsideHeader_ThrowsTruncated()
    {
        var jpeg = DecodeFixtures.Bytes("jpeg_420.jpg");
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.ReadInfo(jpeg.AsSpan(0, 100), "header.jpg"));
        Assert.Equal("JPEG file 'header.jpg' is truncated: Premature end of JPEG file.", e.Message);
    }

    [Fact]
    public void Decode_JpegMagicThenGarbage_ThrowsWithTurboJpegText()
    {
        byte[] data = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x03, 0x00, 0xFF, 0xD9];
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(data, "garbage.jpg"));
        Assert.Equal("JPEG file 'garbage.jpg' cannot be decoded: Bogus marker length.", e.Message);
    }

    [Fact]
    public void Decode_JpegWithJunkBetweenSegments_DecodesLikePil()
    {
        // libjpeg warns "Corrupt JPEG data: 2 extraneous bytes before marker 0xdb" and recovers;
        // PIL accepts the file (generate_decode.py checks), so must we.
        using var image = ImageDecoder.Decode(WithJunkBeforeDqt(DecodeFixtures.Bytes("jpeg_420.jpg")), "junk.jpg");
        Assert.Equal(0, DecodeFixtures.MaxDelta(image, DecodeFixtures.Expected("jpeg_420.npy")));
    }

    [Fact]
    public void Decode_JpegBogusSegmentBetweenScans_ThrowsTurboJpegError()
    {
        // A DHT segment with an impossible length between two progressive scans: a fatal libjpeg error.
        var jpeg = DecodeFixtures.Bytes("jpeg_progressive.jpg");
        var sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        var dht = sos + jpeg.AsSpan(sos).IndexOf([(byte)0xFF, (byte)0xC4]);
        byte[] broken = [.. jpeg.AsSpan(0, dht), 0xFF, 0xC4, 0x00, 0x03, .. jpeg.AsSpan(dht + 4)];
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(broken, "broken.jpg"));
        Assert.Equal("JPEG file 'broken.jpg' cannot be decoded: Bogus marker length.", e.Message);
    }

    [Fact]
    public void Decode_JpegWarningThenFatalError_ThrowsTheFatalError()
    {
        // Junk between header segments (a warning), then a DHT segment of impossible length after
        // the scan (fatal). TurboJPEG 2.1 reports such a failure with the *warning* code; the
        // decode must still fail, with the fatal error's text, as PIL's does.
        var jpeg = WithJunkBeforeDqt(DecodeFixtures.Bytes("jpeg_420.jpg"));
        byte[] broken = [.. jpeg.AsSpan(0, jpeg.Length - 2), 0xFF, 0xC4, 0x00, 0x03, 0xFF, 0xD9];
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(broken, "broken.jpg"));
        Assert.Equal("JPEG file 'broken.jpg' cannot be decoded: Bogus marker length.", e.Message);
    }

    [Fact]
    public void Decode_AfterHeaderError_NextImageOnTheSameThreadDecodes()
    {
        // libjpeg-turbo 2.1 leaves the decompressor's state dirty after a header error.
        byte[] garbage = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x03, 0x00, 0xFF, 0xD9];
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(garbage, "garbage.jpg"));
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(DecodeFixtures.Bytes("jpeg_420.jpg").AsSpan(0, 170), "cut.jpg"));
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path("jpeg_420.jpg"));
        Assert.Equal(0, DecodeFixtures.MaxDelta(image, DecodeFixtures.Expected("jpeg_420.npy")));
    }

    [Fact]
    public void Decode_TablesOnlyJpeg_ThrowsNoImage()
    {
        // SOI, the quantisation tables of a real file, EOI: a valid "abbreviated table specification".
        var jpeg = DecodeFixtures.Bytes("jpeg_420.jpg");
        var dqt = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDB]);
        var length = (jpeg[dqt + 2] << 8) | jpeg[dqt + 3];
        byte[] tables = [0xFF, 0xD8, .. jpeg.AsSpan(dqt, 2 + length), 0xFF, 0xD9];
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.ReadInfo(tables, "tables.jpg"));
        Assert.Equal("JPEG file 'tables.jpg' cannot be decoded: it holds no image (a tables-only JPEG datastream).", e.Message);
    }

    [Fact]
    public void DecodeFile_TruncatedPng_ThrowsWithLibpngText()
    {
        var path = DecodeFixtures.Path("png_truncated.png");
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeFile(path));
        Assert.Equal($"PNG file '{path}' cannot be decoded: read beyond end of data.", e.Message);
    }

    [Fact]
    public void Decode_PngWithBadIhdrCrc_ThrowsWithLibpngText()
    {
        var png = DecodeFixtures.Bytes("png_rgb8.png");
        png[29] ^= 0xFF; // last byte of the IHDR CRC
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.ReadInfo(png, "crc.png"));
        Assert.Equal("PNG file 'crc.png' cannot be decoded: IHDR: CRC error.", e.Message);
    }

    [Fact]
    public void DecodeFile_NotAnImage_ThrowsFormatNotRecognised()
    {
        var path = DecodeFixtures.Path("not_an_image.bin");
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeFile(path));
        Assert.Equal($"image file '{path}': the format is not recognised from its first bytes (supported formats: JPEG, PNG).", e.Message);
    }

    [Fact]
    public void DecodeFile_EmptyFile_ThrowsEmpty()
    {
        using var temp = new TempFolder();
        var path = temp.File("empty.jpg");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeFile(path));
        Assert.Equal($"image file '{path}' is empty (supported formats: JPEG, PNG).", e.Message);
    }

    [Fact]
    public void DecodeFile_MissingFile_ThrowsFileNotFound()
    {
        var path = DecodeFixtures.Path("no_such_image.jpg");
        var e = Assert.Throws<FileNotFoundException>(() => ImageDecoder.DecodeFile(path));
        Assert.Equal($"image file '{path}' not found.", e.Message);
        Assert.Equal(path, e.FileName);
        Assert.Throws<FileNotFoundException>(() => ImageDecoder.ReadInfoFile(path));
    }

    [Fact]
    public void DecodeOptions_NegativeMinimum_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeOptions { MinWidth = -1 });
        Assert.StartsWith("MinWidth must be 0 (no limit) or positive.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeOptions { MinHeight = -5 });
        Assert.StartsWith("MinHeight must be 0 (no limit) or positive.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NativeLibraries_MissingLibrary_NamesThePackageToInstall()
    {
        var spec = new NativeLibrarySpec("x", "libonnxcnn-no-such-library.so.7", "ONNXCNN_TEST_UNSET_" + Guid.NewGuid().ToString("N"), "the test library", "libno-such-package7");
        var e = Assert.Throws<DllNotFoundException>(() => NativeLibraries.Load(spec, typeof(ImageDecoder).Assembly, null));
        Assert.Equal(
            $"the test library (libonnxcnn-no-such-library.so.7) is not installed or cannot be loaded. Install it with 'apt-get install -y libno-such-package7' (the OnnxCnn build does this when run as root), or set {spec.PathVariable} to its path.",
            e.Message);
    }

    [Fact]
    public void NativeLibraries_VariableNamesMissingFile_SaysSo()
    {
        var variable = "ONNXCNN_TEST_LIB_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "/nonexistent/libturbojpeg.so.0");
        try
        {
            var spec = NativeLibraries.TurboJpeg with { PathVariable = variable };
            var e = Assert.Throws<DllNotFoundException>(() => NativeLibraries.Load(spec, typeof(ImageDecoder).Assembly, null));
            Assert.Equal($"{variable} is set to '/nonexistent/libturbojpeg.so.0', but libjpeg-turbo's TurboJPEG library cannot be loaded from there.", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    private static byte[] WithJunkBeforeDqt(byte[] jpeg)
    {
        var dqt = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDB]);
        return [.. jpeg.AsSpan(0, dqt), 0x00, 0x00, .. jpeg.AsSpan(dqt)];
    }

    [Theory]
    [InlineData(new byte[] { 0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00 }, 6)]
    [InlineData(new byte[] { 0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x01, 0x12, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08 }, 8)]
    [InlineData(new byte[] { 0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00 }, 1)]
    [InlineData(new byte[] { 0x49, 0x49, 0x2A, 0x00, 0xFF, 0x00, 0x00, 0x00 }, 1)]
    [InlineData(new byte[] { 0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x12, 0x01 }, 1)]
    [InlineData(new byte[] { 0x49, 0x4D, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00 }, 1)]
    [InlineData(new byte[] { }, 1)]
    public void ExifOrientation_FromTiff_ReadsValidTagsAndIgnoresGarbage(byte[] tiff, int expected)
    {
        Assert.Equal(expected, ExifOrientation.FromTiff(tiff));
    }
}

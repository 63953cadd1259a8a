using Xunit.Abstractions;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>Decoding parity with PIL (fixtures from tests/fixtures/decode/generate_decode.py), formats, scaling, orientation, threads.</summary>
public class DecodeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("jpeg_420")]
    [InlineData("jpeg_444")]
    [InlineData("jpeg_progressive")]
    [InlineData("jpeg_grey")]
    [InlineData("jpeg_cmyk")]
    [InlineData("jpeg_ycck")]
    [InlineData("jpeg_odd_420")]
    [InlineData("jpeg_odd_422")]
    public void Decode_JpegFixture_EqualsPilExactly(string name) => AssertParity(name + ".jpg", name + ".npy", tolerance: 0);

    [Theory]
    [InlineData("png_rgb8")]
    [InlineData("png_grey8")]
    [InlineData("png_grey1")]
    [InlineData("png_palette")]
    [InlineData("png_rgba8")]
    [InlineData("png_greyalpha8")]
    [InlineData("png_palette_trns")]
    public void Decode_Png8BitFixture_EqualsPilExactly(string name) => AssertParity(name + ".png", name + ".npy", tolerance: 0);

    [Theory]
    [InlineData("png_rgb16")]
    [InlineData("png_rgba16")]
    [InlineData("png_grey16")]
    public void Decode_Png16BitFixture_WithinOneOfPil(string name) => AssertParity(name + ".png", name + ".npy", tolerance: 1);

    [Fact]
    public void Decode_PngWithAlpha_TransparentPixelsBecomeWhite()
    {
        // The top quarter of png_rgba8.png is fully transparent (generate_decode.py).
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path("png_rgba8.png"));
        Assert.All(image.Row(0).ToArray(), v => Assert.Equal(255, v));
    }

    [Fact]
    public void Decode_PngNamedJpg_DecodesByMagicBytes()
    {
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path("png_named_as.jpg"));
        Assert.Equal(0, DecodeFixtures.MaxDelta(image, DecodeFixtures.Expected("png_rgb8.npy")));
        Assert.Equal(ImageFormat.Png, ImageDecoder.ReadInfoFile(DecodeFixtures.Path("png_named_as.jpg")).Format);
    }

    [Fact]
    public void DetectFormat_Signatures_RecognisesJpegAndPngOnly()
    {
        Assert.Equal(ImageFormat.Jpeg, ImageDecoder.DetectFormat([0xFF, 0xD8, 0xFF, 0xE0]));
        Assert.Equal(ImageFormat.Png, ImageDecoder.DetectFormat(DecodeFixtures.Bytes("png_rgb8.png").AsSpan(0, 8)));
        Assert.Null(ImageDecoder.DetectFormat([0xFF, 0xD8]));
        Assert.Null(ImageDecoder.DetectFormat("GIF89a"u8));
        Assert.Null(ImageDecoder.DetectFormat([]));
    }

    [Theory]
    [InlineData("jpeg_420.jpg", ImageFormat.Jpeg, 64, 48)]
    [InlineData("jpeg_odd_422.jpg", ImageFormat.Jpeg, 37, 23)]
    [InlineData("png_palette_trns.png", ImageFormat.Png, 37, 23)]
    [InlineData("png_rgba16.png", ImageFormat.Png, 37, 23)]
    public void ReadInfo_Fixture_GivesFormatAndSize(string file, ImageFormat format, int width, int height)
    {
        var info = ImageDecoder.ReadInfo(DecodeFixtures.Bytes(file), file);
        Assert.Equal(new ImageInfo(format, width, height, 1), info);
    }

    [Fact]
    public void Decode_MinSizeHalf_EqualsPilDraft()
    {
        // 128×96 with a 64×48 minimum: the 1/2 factor, as PIL's draft("RGB", (64, 48)) picks.
        var options = new DecodeOptions { MinWidth = 64, MinHeight = 48 };
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path("jpeg_scale_128x96.jpg"), options);
        var delta = DecodeFixtures.MaxDelta(image, DecodeFixtures.Expected("jpeg_scale_128x96_half.npy"));
        output.WriteLine($"jpeg_scale_128x96.jpg at 1/2 vs PIL draft: max |delta| = {delta}");
        Assert.Equal(0, delta);
    }

    [Theory]
    [InlineData(0, 0, 128, 96)]      // no minimum: full size
    [InlineData(64, 48, 64, 48)]     // exactly 1/2
    [InlineData(60, 40, 64, 48)]     // 3/8 gives 48×36, too small
    [InlineData(48, 36, 48, 36)]     // 3/8
    [InlineData(17, 1, 32, 24)]      // 1/8 gives 16 wide, too narrow; 1/4 does it
    [InlineData(1, 1, 16, 12)]       // 1/8, the smallest
    [InlineData(200, 10, 128, 96)]   // larger than the image: never upscaled
    [InlineData(0, 13, 32, 24)]      // height only
    public void Decode_MinSize_UsesSmallestCoveringFactor(int minWidth, int minHeight, int width, int height)
    {
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path("jpeg_scale_128x96.jpg"), new DecodeOptions { MinWidth = minWidth, MinHeight = minHeight });
        Assert.Equal((width, height), (image.Width, image.Height));
    }

    [Fact]
    public void JpegScaling_640x480Min150_Picks3Over8NotSmallerThanAsked()
    {
        // 1/4 would give 160×120 (120 < 150); 3/8 gives 240×180 and covers 150 in both dimensions.
        Assert.Equal((240, 180), Internal.TurboJpeg.JpegScaling.Choose(640, 480, 150, 150));
        Assert.Equal((320, 240), Internal.TurboJpeg.JpegScaling.Choose(640, 480, 300, 200));
        Assert.Equal((80, 60), Internal.TurboJpeg.JpegScaling.Choose(640, 480, 1, 1));
        Assert.Equal((640, 480), Internal.TurboJpeg.JpegScaling.Choose(640, 480, 0, 0));
        Assert.Equal((640, 480), Internal.TurboJpeg.JpegScaling.Choose(640, 480, 641, 1));
    }

    [Fact]
    public void JpegScaling_Factors_AreTheEighthsUpToOne()
    {
        Assert.Equal(Enumerable.Range(1, 8).Select(n => n / 8.0), Internal.TurboJpeg.JpegScaling.DownscalingFactors.Select(f => (double)f.Num / f.Denom));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Decode_ExifOrientation_GivesTheSameUprightPixelsAsPil(int orientation)
    {
        var file = $"orientation_{orientation}.jpg";
        Assert.Equal(orientation, ImageDecoder.ReadInfoFile(DecodeFixtures.Path(file)).Orientation);
        AssertParity(file, "orientation_upright.npy", tolerance: 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(8)]
    public void Decode_ExifOrientationOff_KeepsStoredPixels(int orientation)
    {
        var file = DecodeFixtures.Path($"orientation_{orientation}.jpg");
        using var stored = ImageDecoder.DecodeFile(file, new DecodeOptions { ApplyExifOrientation = false });
        var info = ImageDecoder.ReadInfoFile(file);
        Assert.Equal((info.Width, info.Height), (stored.Width, stored.Height));
        Assert.Equal(orientation >= 5 ? (48, 64) : (64, 48), (stored.Width, stored.Height));
        var upright = DecodeFixtures.Expected("orientation_upright.npy");
        Assert.Equal(orientation == 1, stored.Pixels.SequenceEqual(upright.Rgb));
    }

    [Fact]
    public void Decode_RotatedJpegWithMinSize_MinimumAppliesToUprightImage()
    {
        // orientation_6.jpg is stored 48×64 and displayed 64×48; ask for at least 32×24 upright.
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path("orientation_6.jpg"), new DecodeOptions { MinWidth = 32, MinHeight = 24 });
        Assert.Equal((32, 24), (image.Width, image.Height));
    }

    [Fact]
    public void Decode_MalformedExif_IsIgnored()
    {
        // An APP1 "Exif" segment whose TIFF header is garbage: decoded as stored, like PIL.
        var jpeg = DecodeFixtures.Bytes("jpeg_420.jpg");
        byte[] app1 = [0xFF, 0xE1, 0x00, 0x10, .. "Exif\0\0"u8, .. "XX*\0\0\0\0\x08"u8];
        byte[] spliced = [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
        using var image = ImageDecoder.Decode(spliced, "spliced.jpg");
        Assert.Equal(0, DecodeFixtures.MaxDelta(image, DecodeFixtures.Expected("jpeg_420.npy")));
        Assert.Equal(1, ImageDecoder.ReadInfo(spliced, "spliced.jpg").Orientation);
    }

    [Fact]
    public void Decode_FourThreads_GiveIdenticalResults()
    {
        string[] files = ["jpeg_420.jpg", "jpeg_cmyk.jpg", "orientation_6.jpg", "png_rgba8.png", "png_palette.png", "png_rgb16.png"];
        var data = files.Select(DecodeFixtures.Bytes).ToArray();
        var reference = data.Select((d, i) =>
        {
            using var image = ImageDecoder.Decode(d, files[i]);
            return image.Pixels.ToArray();
        }).ToArray();

        var mismatches = 0;
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                var k = (i + t) % files.Length;
                using var image = ImageDecoder.Decode(data[k], files[k]);
                if (!image.Pixels.SequenceEqual(reference[k]))
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.Equal(0, mismatches);
    }

    private void AssertParity(string file, string expectedFile, int tolerance)
    {
        using var image = ImageDecoder.DecodeFile(DecodeFixtures.Path(file));
        var delta = DecodeFixtures.MaxDelta(image, DecodeFixtures.Expected(expectedFile));
        output.WriteLine($"{file}: {image.Width}×{image.Height}, max |delta| vs PIL = {delta}");
        Assert.True(delta <= tolerance, $"{file}: max |delta| {delta} > {tolerance}");
    }
}

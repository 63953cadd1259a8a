using System.Text.Json;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>Resizing and the ImageNet preset against PIL and torchvision (tests/fixtures/preprocess/generate_preprocess.py).</summary>
public class PilParityTests
{
    public static TheoryData<string> ResizeCases()
    {
        var data = new TheoryData<string>();
        using var index = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("preprocess", "resize", "index.json")));
        foreach (var c in Cases(index.RootElement))
        {
            data.Add(c.GetProperty("file").GetString()!);
        }

        return data;
    }

    private static IEnumerable<JsonElement> Cases(JsonElement root) =>
        root.ValueKind == JsonValueKind.Array ? root.EnumerateArray() : root.GetProperty("cases").EnumerateArray();

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Resize_EqualsPilBitForBit(string file)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("preprocess", "resize", "index.json")));
        var c = Cases(index.RootElement).Single(e => e.GetProperty("file").GetString() == file);
        var filter = c.GetProperty("filter").GetString()!.ToUpperInvariant() switch
        {
            "NEAREST" => ResampleFilter.Nearest,
            "BILINEAR" => ResampleFilter.Bilinear,
            "BICUBIC" => ResampleFilter.Bicubic,
            var f => throw new InvalidOperationException(f),
        };
        using var source = LoadImage(RepoPaths.Fixture("preprocess", "resize", c.GetProperty("source").GetString()!));
        using var expected = LoadImage(RepoPaths.Fixture("preprocess", "resize", file));
        using var actual = Resampler.Resize(source, c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), filter);
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var a = actual.Pixels.ToArray();
        var e = expected.Pixels.ToArray();
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != e[i])
            {
                Assert.Fail($"{file}: byte {i} (x={(i / 3) % actual.Width}, y={i / 3 / actual.Width}, c={i % 3}) is {a[i]}, PIL gives {e[i]}");
            }
        }
    }

    [Theory]
    [InlineData("photo1")]
    [InlineData("photo2")]
    public void ImageNetPreset_FromPilDecodedPixels_MatchesTorchvision(string photo)
    {
        using var decoded = LoadImage(RepoPaths.Fixture("preprocess", "photos", photo + ".rgb.npy"));
        using var prepared = ImageTransforms.Apply(decoded, PreprocessSpec.ImageNet);
        Assert.Equal((224, 224), (prepared.Width, prepared.Height));
        var values = new float[3 * 224 * 224];
        ImageTransforms.ToTensor(prepared, PreprocessSpec.ImageNet, values);
        using var expected = Npy.Read(RepoPaths.Fixture("preprocess", "imagenet", photo + ".npy"));
        var (mean, max) = Difference(values, expected.As<float>().Span);
        // The resize is bit-exact, so only float rounding of the normalisation remains.
        Assert.True(max <= 1e-5, $"{photo}: max |Δ| {max}, mean {mean}");
    }

    [Theory]
    [InlineData("caffe,resize=224x224,layout=nhwc", "photo1.caffe.npy")]
    [InlineData("inception,resize=224x224,layout=nhwc", "photo1.inception.npy")]
    public void KerasModes_MatchKerasPreprocessInput(string spec, string file)
    {
        var parsed = PreprocessSpec.Parse(spec);
        using var decoded = LoadImage(RepoPaths.Fixture("preprocess", "photos", "photo1.rgb.npy"));
        using var prepared = ImageTransforms.Apply(decoded, parsed);
        var values = new float[224 * 224 * 3];
        ImageTransforms.ToTensor(prepared, parsed, values);
        using var expected = Npy.Read(RepoPaths.Fixture("preprocess", "spec", file));
        var want = expected.As<float>().Span;
        var max = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            max = Math.Max(max, Math.Abs(values[i] - want[i]));
        }

        Assert.True(max <= 1e-4, $"{file}: max |Δ| {max}");
    }

    [Fact]
    public void ShorterSideSize_FollowsTorchvisionTruncation()
    {
        Assert.Equal((256, 341), Resampler.ShorterSideSize(375, 500, 256));
        Assert.Equal((341, 256), Resampler.ShorterSideSize(500, 375, 256));
        Assert.Equal((256, 256), Resampler.ShorterSideSize(300, 300, 256));
        Assert.Equal((256, 343), Resampler.ShorterSideSize(298, 400, 256));
    }

    [Fact]
    public void CenterCrop_OddMargin_RoundsHalfToEven()
    {
        // (7 - 4) / 2 = 1.5 rounds to 2 in Python; (5 - 4) / 2 = 0.5 rounds to 0.
        using var image = RgbImage.Create(5, 7);
        for (var y = 0; y < 7; y++)
        {
            for (var x = 0; x < 5; x++)
            {
                image.Row(y)[x * 3] = (byte)((y * 10) + x);
            }
        }

        using var crop = ImageTransforms.CenterCrop(image, 4, 4);
        Assert.Equal(20, crop.Row(0)[0]);
    }

    /// <summary>Mean and largest absolute difference between two equally long float arrays.</summary>
    internal static (double Mean, double Max) Difference(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double sum = 0, max = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = Math.Abs(actual[i] - expected[i]);
            sum += d;
            max = Math.Max(max, d);
        }

        return (sum / actual.Length, max);
    }

    internal static RgbImage LoadImage(string path)
    {
        using var t = Npy.Read(path);
        var shape = t.Shape;
        if (shape.Count != 3 || shape[2] != 3 || t.ElementType != TensorElementType.UInt8)
        {
            throw new InvalidDataException($"{path}: expected uint8 [H,W,3], got {t}");
        }

        return RgbImage.FromPixels((int)shape[1], (int)shape[0], t.As<byte>().Span);
    }
}

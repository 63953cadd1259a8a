using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>Real photos, decoded by OnnxCnn, through the imagenet preset vs torchvision on PIL.</summary>
public class EndToEndTests
{
    [Theory]
    [InlineData("photo1.jpg", "photo1")]
    [InlineData("photo2.png", "photo2")]
    public void ImageNetPreset_RealPhoto_MatchesTorchvision(string file, string reference)
    {
        using var decoded = ImageDecoder.DecodeFile(RepoPaths.Fixture("preprocess", "photos", file));
        using var prepared = ImageTransforms.Apply(decoded, PreprocessSpec.ImageNet);
        var values = new float[3 * 224 * 224];
        ImageTransforms.ToTensor(prepared, PreprocessSpec.ImageNet, values);
        using var expected = Npy.Read(RepoPaths.Fixture("preprocess", "imagenet", reference + ".npy"));
        var (mean, max) = PilParityTests.Difference(values, expected.As<float>().Span);

        // Done-when bound: mean |Δ| ≤ 0.01 and max |Δ| ≤ 0.1; decode and resize are exact, so far tighter holds.
        Assert.True(mean <= 1e-6 && max <= 1e-5, $"{file}: mean |Δ| {mean}, max |Δ| {max}");
    }

    [Fact]
    public void PngEncoder_RoundTripsThroughTheDecoder()
    {
        using var image = RgbImage.Create(13, 7);
        new Random(2).NextBytes(image.Pixels);
        using var dir = new TempDir();
        PngEncoder.Save(image, dir.File("x.png"));
        using var back = ImageDecoder.DecodeFile(dir.File("x.png"));
        Assert.Equal(image.Pixels.ToArray(), back.Pixels.ToArray());
        Assert.Equal(["x.png"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}

namespace OnnxCnn.Preprocess.Tests;

/// <summary>Regression tests for what fuzzing the preprocessing and augmentation spec parsers found.</summary>
public class SpecHardeningTests
{
    [Theory]
    [InlineData("resize=16385", "preprocess spec token 'resize=16385': 16385 is larger than the largest size a spec allows, 16384.")]
    [InlineData("resize=20x2000000000", "preprocess spec token 'resize=20x2000000000': 2000000000 is larger than the largest size a spec allows, 16384.")]
    [InlineData("crop=99999x3", "preprocess spec token 'crop=99999x3': 99999 is larger than the largest size a spec allows, 16384.")]
    public void PreprocessSpec_SizeAboveTheLimit_IsRefusedByName(string text, string message)
    {
        // A spec can come from a model's metadata: resize=60000x60000 would have allocated 43 GB.
        var e = Assert.Throws<FormatException>(() => PreprocessSpec.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void PreprocessSpec_LargestSize_IsAccepted() =>
        Assert.Equal(PreprocessSpec.MaxSize, PreprocessSpec.Parse("resize=16384x16384").ResizeWidth);

    [Fact]
    public void PreprocessSpec_FractionOverflowingToInfinity_IsRefused()
    {
        // 1e38/1e-38 was accepted as scale=∞, whose text did not parse back.
        var e = Assert.Throws<FormatException>(() => PreprocessSpec.Parse("scale=1e38/1e-38"));
        Assert.Equal("preprocess spec token 'scale=1e38/1e-38': '1e38/1e-38' is not a finite number.", e.Message);
    }

    [Theory]
    [InlineData("imagenet,std=1e-45:0.224:0.225", "preprocess spec 'imagenet,std=1e-45:0.224:0.225': channel 0 (scale 0.003921569, mean 0.485, std 1E-45) turns pixel values into infinities.")]
    [InlineData("scale=1e38", "preprocess spec 'scale=1e38': channel 0 (scale 1E+38, mean 0, std 1) turns pixel values into infinities.")]
    public void PreprocessSpec_ArithmeticOverflowingToInfinity_IsRefused(string text, string message)
    {
        // std=1e-45 parsed and then filled the tensor with infinities (found by the fuzzer's finiteness check).
        var e = Assert.Throws<FormatException>(() => PreprocessSpec.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("resize=2=\n%24")]
    [InlineData("mean=1:\u2028:3")]
    [InlineData("crop=\r\nx")]
    public void PreprocessSpec_BadTokenWithLineBreaks_MessageIsOneLine(string text)
    {
        var e = Assert.Throws<FormatException>(() => PreprocessSpec.Parse(text));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        Assert.DoesNotContain('\u2028', e.Message);
        Assert.StartsWith("preprocess spec token '", e.Message);
    }

    [Theory]
    [InlineData("zoom=8:\n5", "augment spec token 'zoom=8:\\x0a5': zoom A:B needs 0 < A ≤ B.")]
    [InlineData("fill=ref\nlect", "augment spec token 'fill=ref\\x0alect': fill is nearest, constant[:V], reflect or wrap.")]
    public void AugmentSpec_BadTokenWithLineBreaks_MessageIsOneLine(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => AugmentSpec.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ShorterSideSize_VeryElongatedImage_IsRefusedInsteadOfOverflowing()
    {
        // A 7×5 image at resize=… and a 1×100000 strip at 16384 overflowed int and asked for a 35229398×25163856 image.
        var e = Assert.Throws<ArgumentException>(() => Resampler.ShorterSideSize(1, 100_000, 16384));
        Assert.Equal("resizing a 1×100000 image to a shorter side of 16384 gives 16384×1638400000 pixels, more than the 178956970 allowed.", e.Message);
        Assert.Equal((1000, 4000), Resampler.ShorterSideSize(100, 400, 1000));
    }
}

namespace OnnxCnn.Preprocess.Tests;

public class PreprocessSpecTests
{
    [Fact]
    public void Parse_ImageNetPreset_EqualsExplicitTokens()
    {
        var explicitSpec = PreprocessSpec.Parse("resize=256,crop=224,scale=1/255,mean=0.485:0.456:0.406,std=0.229:0.224:0.225");
        Assert.Equal(PreprocessSpec.ImageNet, explicitSpec);
        Assert.Equal(ResizeMode.ShorterSide, explicitSpec.Resize);
        Assert.Equal(1f / 255, explicitSpec.Scale);
    }

    [Fact]
    public void Parse_Caffe_IsBgrMeanSubtraction()
    {
        var spec = PreprocessSpec.Parse("caffe");
        Assert.True(spec.Bgr);
        Assert.Equal([103.939f, 116.779f, 123.68f], spec.Mean);
        Assert.Equal(1f, spec.Scale);
    }

    [Fact]
    public void Parse_LaterTokensOverridePreset()
    {
        var spec = PreprocessSpec.Parse("imagenet,resize=299x299,crop=0x0".Replace(",crop=0x0", "", StringComparison.Ordinal) + ",layout=nhwc,order=bgr");
        Assert.Equal(ResizeMode.Exact, spec.Resize);
        Assert.Equal((299, 299), (spec.ResizeHeight, spec.ResizeWidth));
        Assert.True(spec.Nhwc);
        Assert.True(spec.Bgr);
    }

    [Fact]
    public void Equals_SpecsParsedApart_AreEqualByValue()
    {
        // Record equality itself (not xUnit's structural comparer): mean and std compare by value.
        var a = PreprocessSpec.Parse("imagenet");
        var b = PreprocessSpec.Parse(PreprocessSpec.ImageNet.ToString());
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.False(a == (a with { Std = a.Std with { Third = 0.5f } }));
    }

    [Fact]
    public void ChannelValues_ThreeValuesOnly()
    {
        Assert.Throws<ArgumentException>(() => ChannelValues.Create([1f, 2f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PreprocessSpec.ImageNet.Mean[3]);
        Assert.Equal([0.485f, 0.456f, 0.406f], PreprocessSpec.ImageNet.Mean.ToArray());
        Assert.Equal("0.5:0.25:1", new ChannelValues(0.5f, 0.25f, 1f).ToString());
    }

    [Fact]
    public void ToString_ParsesBackToEqualSpec()
    {
        foreach (var spec in new[] { PreprocessSpec.ImageNet, PreprocessSpec.Caffe, PreprocessSpec.Inception, PreprocessSpec.Parse("fit=200x300,pad=114,layout=nhwc") })
        {
            Assert.Equal(spec, PreprocessSpec.Parse(spec.ToString()));
        }
    }

    [Theory]
    [InlineData("resize=0", "preprocess spec token 'resize=0': '0' is not a positive size.")]
    [InlineData("resize=2x", "preprocess spec token 'resize=2x': '' is not a positive size.")]
    [InlineData("mean=1:2", "preprocess spec token 'mean=1:2': expected one value or three values a:b:c.")]
    [InlineData("std=1:0:1", "preprocess spec token 'std=1:0:1': std values must not be 0.")]
    [InlineData("order=rbg", "preprocess spec token 'order=rbg': order is rgb or bgr.")]
    [InlineData("scale=abc", "preprocess spec token 'scale=abc': 'abc' is not a number.")]
    [InlineData("blur=3", "preprocess spec token 'blur=3': unknown token; use resize=, fit=, textline=, crop=, scale=, mean=, std=, order=, layout=, pad= or a preset (imagenet, caffe, inception, paddle-cls).")]
    [InlineData("textline=48", "preprocess spec token 'textline=48': expected HxW, e.g. 224x224.")]
    [InlineData("std=0", "preprocess spec token 'std=0': std values must not be 0.")]
    public void Parse_BadToken_IsNamed(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<FormatException>(() => PreprocessSpec.Parse(text)).Message);
    }
}

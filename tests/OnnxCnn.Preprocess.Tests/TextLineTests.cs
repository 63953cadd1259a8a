using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>The spec vocabulary added for PaddleOCR-style models: scalar mean/std and the text-line mode.</summary>
public class TextLineTests
{
    private static string Fixture(string name) => RepoPaths.Fixture("preprocess", "textline", name);

    [Fact]
    public void Parse_ScalarMeanAndStd_ApplyToEveryChannel()
    {
        var spec = PreprocessSpec.Parse("scale=1/255,mean=0.5,std=0.25");
        Assert.Equal([0.5f, 0.5f, 0.5f], spec.Mean);
        Assert.Equal([0.25f, 0.25f, 0.25f], spec.Std);
        Assert.Equal(PreprocessSpec.Parse("scale=1/255,mean=0.5:0.5:0.5,std=0.25:0.25:0.25"), spec);
    }

    [Fact]
    public void Parse_TextLine_RoundTripsAndHasAFixedSize()
    {
        var spec = PreprocessSpec.Parse("textline=48x192,scale=1/255,mean=0.5,std=0.5,order=bgr");
        Assert.Equal(ResizeMode.TextLine, spec.Resize);
        Assert.Equal((48, 192), spec.OutputSize);
        Assert.Equal(spec, PreprocessSpec.Parse(spec.ToString()));
        Assert.Equal(PreprocessSpec.PaddleCls, spec);
        Assert.Equal(PreprocessSpec.PaddleCls, PreprocessSpec.Parse("paddle-cls"));
        Assert.Null(PreprocessSpec.Parse("resize=256").OutputSize);
    }

    [Theory]
    [InlineData(30, 20, 72)]    // ceil(48·1.5)
    [InlineData(100, 20, 192)]  // ceil(48·5) = 240 > 192: clamped
    [InlineData(10, 100, 5)]    // ceil(4.8)
    [InlineData(192, 48, 192)]  // exactly full width
    [InlineData(61, 23, 128)]   // ceil(127.30…)
    public void TextLineSize_IsPaddlesRule(int w, int h, int expected)
    {
        Assert.Equal((expected, 48), ImageTransforms.TextLineSize(w, h, 48, 192));
    }

    [Theory]
    [InlineData("narrow")]
    [InlineData("wide")]
    public void Prepare_TextLine_EqualsPaddlesResizeNormImgWithPilResize(string name)
    {
        using var source = PilParityTests.LoadImage(Fixture(name + ".src.npy"));
        using var expected = Npy.Read(Fixture(name + ".npy"));
        var spec = PreprocessSpec.Parse("textline=16x48,scale=1/255,mean=0.5,std=0.5");
        var actual = new float[3 * 16 * 48];
        ImageTransforms.Prepare(source, spec, actual);
        Assert.Equal(expected.As<float>().Span.ToArray(), actual);
    }

    [Fact]
    public void ToTensor_NarrowLine_PadsTheNormalisedTensorWithZerosOnTheRight_InBothLayouts()
    {
        using var image = RgbImage.Create(30, 20);
        new Random(5).NextBytes(image.Pixels);
        foreach (var layout in new[] { "nchw", "nhwc" })
        {
            var spec = PreprocessSpec.Parse($"textline=48x192,scale=1/255,mean=0.5,std=0.5,layout={layout}");
            var tensor = new float[3 * 48 * 192];
            tensor.AsSpan().Fill(float.NaN);
            ImageTransforms.Prepare(image, spec, tensor);
            using var resized = Resampler.Resize(image, 72, 48, ResampleFilter.Bilinear);
            for (var y = 0; y < 48; y++)
            {
                for (var x = 0; x < 192; x++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        var value = layout == "nchw" ? tensor[(c * 48 * 192) + (y * 192) + x] : tensor[(((y * 192) + x) * 3) + c];
                        var want = x < 72 ? ((resized.Row(y)[(x * 3) + c] / 255f) - 0.5f) / 0.5f : 0f;
                        // NCHW divides by 255 as torchvision does (exact); the NHWC path multiplies by 1/255 (within 1 ulp).
                        Assert.True(layout == "nchw" ? value == want : Math.Abs(value - want) <= 1.2e-7f, $"{layout} ({c},{y},{x}): {value} vs {want}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Prepare_SpecWithoutFixedSizeOrWrongDestination_IsNamed()
    {
        using var image = RgbImage.Create(4, 4);
        var noSize = Assert.Throws<ArgumentException>(() => ImageTransforms.Prepare(image, PreprocessSpec.Parse("resize=8"), new float[3]));
        Assert.Contains("does not give a fixed size", noSize.Message);
        var wrong = Assert.Throws<ArgumentException>(() => ImageTransforms.Prepare(image, PreprocessSpec.Parse("resize=2x2"), new float[5]));
        Assert.StartsWith("destination holds 5 values; preprocess spec 'resize=2x2", wrong.Message);
    }

    [Fact]
    public void DecodeOptionsFor_IsTwiceTheResizeTarget()
    {
        Assert.Equal((512, 512), (DecodeOptions.For(PreprocessSpec.ImageNet).MinWidth, DecodeOptions.For(PreprocessSpec.ImageNet).MinHeight));
        Assert.Equal(600, DecodeOptions.For(PreprocessSpec.Parse("resize=200x300")).MinWidth);
        Assert.Equal(96, DecodeOptions.For(PreprocessSpec.PaddleCls).MinHeight);
        Assert.Same(DecodeOptions.Default, DecodeOptions.For(PreprocessSpec.Parse("crop=32")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("hflip")]
    public async Task Pipeline_TextLineSpec_BatchesPaddedLines(string? augment)
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("d.csv"), Enumerable.Range(0, 5).Select(r => $"{r % 2}," + string.Join(",", Enumerable.Range(0, 64).Select(i => (i * 5 + r * 11) % 256))));
        var ds = ImageDataset.FromCsvPixels(dir.File("d.csv"));
        var spec = PreprocessSpec.Parse("textline=4x6,scale=1/255,mean=0.5,std=0.5");
        var pipeline = new BatchPipeline(ds, new PipelineOptions { BatchSize = 4, Preprocess = spec, Augment = augment is null ? null : AugmentSpec.Parse(augment) }, ds.PixelImage);
        var seen = 0;
        await foreach (var batch in pipeline.Epoch(Enumerable.Range(0, 5).ToArray(), 0))
        {
            using (batch)
            {
                Assert.Equal((4, 6), (batch.Height, batch.Width));
                for (var i = 0; i < batch.Count; i++)
                {
                    var sample = batch.Values.Slice(i * 72, 72);
                    using var image = ds.PixelImage(batch.Indices[i]);
                    var expected = new float[72];
                    ImageTransforms.Prepare(image, spec, expected);
                    if (augment is null)
                    {
                        Assert.Equal(expected, sample.ToArray());
                    }

                    // An 8×8 image becomes a 4×4 line: columns 4 and 5 of every row are padding.
                    for (var row = 0; row < 12; row++)
                    {
                        Assert.Equal([0f, 0f], sample.Slice((row * 6) + 4, 2).ToArray());
                    }
                }

                seen += batch.Count;
            }
        }

        Assert.Equal(5, seen);
    }
}

namespace OnnxCnn.Preprocess.Tests;

[Collection(nameof(VectorToggle))]
public class TensorConversionTests
{
    public static TheoryData<string, int> Paths()
    {
        var data = new TheoryData<string, int>();
        foreach (var spec in new[] { "imagenet", "caffe", "inception", "scale=0.5,mean=1:2:3,std=2:3:4,order=bgr" })
        {
            foreach (var width in new[] { 128, 256, 512 })
            {
                data.Add(spec, width);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ToTensor_EveryVectorPath_BitIdenticalToScalar(string specText, int width)
    {
        var spec = PreprocessSpec.Parse(specText) with { Resize = ResizeMode.None, CropHeight = 0, CropWidth = 0 };
        // 37×11 = 407 pixels: several full vectors plus a ragged tail for every width.
        using var image = RgbImage.Create(37, 11);
        new Random(5).NextBytes(image.Pixels);
        var vector = new float[3 * 37 * 11];
        var scalar = new float[3 * 37 * 11];
        var before = ImageTransforms.VectorWidth;
        try
        {
            // The portable Vector APIs run (in software) even without hardware support, so each path is exercised.
            ImageTransforms.VectorWidth = width;
            ImageTransforms.ToTensor(image, spec, vector);
            ImageTransforms.VectorWidth = 0;
            ImageTransforms.ToTensor(image, spec, scalar);
        }
        finally
        {
            ImageTransforms.VectorWidth = before;
        }

        Assert.Equal(scalar, vector);
        var c = 2;
        var source = spec.Bgr ? 0 : 2;
        var px = image.Row(3)[(5 * 3) + source];
        Assert.Equal(((px * spec.Scale) - spec.Mean[c]) / spec.Std[c], scalar[(c * 37 * 11) + (3 * 37) + 5], 1e-5f);
    }

    [Fact]
    public void ToTensor_Nhwc_InterleavesChannels()
    {
        using var image = RgbImage.FromPixels(2, 1, [10, 20, 30, 40, 50, 60]);
        var values = new float[6];
        ImageTransforms.ToTensor(image, PreprocessSpec.Parse("layout=nhwc,order=bgr"), values);
        Assert.Equal([30f, 20, 10, 60, 50, 40], values);
    }

    [Fact]
    public void ToTensor_SmallDestination_IsRefused()
    {
        using var image = RgbImage.Create(4, 4);
        Assert.Equal("destination holds 10 values; a 4×4 image needs 48.", Assert.Throws<ArgumentException>(() => ImageTransforms.ToTensor(image, new PreprocessSpec(), new float[10])).Message);
    }
}

[CollectionDefinition(nameof(VectorToggle), DisableParallelization = true)]
public sealed class VectorToggle;

using System.Text;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Fuzz.Targets;

/// <summary>
/// The preprocessing and augmentation spec parsers (their text comes from the command line and from
/// a model's metadata): a parsed spec round-trips through its text, and is applied to a small image.
/// </summary>
internal static class SpecTargets
{
    /// <summary>Output sizes up to this many pixels are applied to an image; larger ones only parsed (the fuzzer's own memory).</summary>
    private const long ApplyLimit = 1 << 18;

    private static readonly string[] PreprocessWords = ["resize=", "fit=", "textline=", "paddle-cls", "crop=", "scale=", "mean=", "std=", "order=", "layout=", "pad=", "imagenet", "caffe", "inception",
        "rgb", "bgr", "nchw", "nhwc", "x", ":", ",", "1/255", "0.5", "-1", "1e308", "1e-45", "NaN", "Infinity", "16384", "16385", "2147483647"];

    private static readonly string[] AugmentWords = ["rotation=", "shift=", "wshift=", "hshift=", "shear=", "zoom=", "hflip", "vflip", "fill=", "nearest", "constant", "reflect",
        "wrap", "brightness=", "contrast=", "saturation=", "hue=", "rrc=", "erase=", ":", ",", "0.5", "1", "0", "180", "1e308", "NaN", "-0", "0.0001"];

    public static FuzzTarget Preprocess() => new()
    {
        Name = "preprocess-spec",
        Description = "PreprocessSpec.Parse on text; the spec round-trips through ToString and transforms a 7×5 image into a tensor",
        Execute = ExecutePreprocess,
        Expected = [typeof(FormatException), typeof(ArgumentException)],
        Seeds = () => Texts("imagenet", "caffe", "inception", "resize=256,crop=224,scale=1/255,mean=0.485:0.456:0.406,std=0.229:0.224:0.225",
            "resize=32x32,scale=1/255", "fit=40x30,pad=114,layout=nhwc,order=bgr", "crop=3x9", "imagenet,resize=7", "scale=2,mean=1:2:3",
            "paddle-cls", "textline=48x192,mean=0.5,std=0.5", "textline=4x3,crop=2x2"),
        Dictionary = PreprocessWords.Select(Encoding.UTF8.GetBytes).ToArray(),
    };

    public static FuzzTarget Augment() => new()
    {
        Name = "augment-spec",
        Description = "AugmentSpec.Parse on text; the spec augments a 9×6 image (and erases a tensor) for a few sample indices",
        Execute = ExecuteAugment,
        Expected = [typeof(FormatException)],
        Seeds = () => Texts("hflip,rotation=10,brightness=0.2", "rotation=40,shift=0.2,shear=20,zoom=0.2,hflip,fill=nearest", "zoom=0.5:1.5,fill=constant:128",
            "vflip,fill=reflect,wshift=0.3,hshift=0.1", "fill=wrap,rotation=180", "contrast=0.4,saturation=0.4,hue=0.1", "rrc=0.08:1,erase=0.5"),
        Dictionary = AugmentWords.Select(Encoding.UTF8.GetBytes).ToArray(),
    };

    private static void ExecutePreprocess(byte[] data)
    {
        var spec = PreprocessSpec.Parse(Encoding.UTF8.GetString(data));
        var text = spec.ToString();
        ImageTargets.Require(PreprocessSpec.Parse(text).ToString() == text, $"'{text}' does not parse back to itself");
        var (w, h) = LargestSize(spec, 7, 5);
        if (w * h > ApplyLimit)
        {
            return;
        }

        using var image = TestImage(7, 5);
        using var result = ImageTransforms.Apply(image, spec);
        var (ow, oh) = spec.CropHeight > 0 ? (spec.CropWidth, spec.CropHeight) : ((int)w, (int)h);
        // A text line may come out narrower than the spec's width; the tensor pads it to that width.
        var textLine = spec is { Resize: ResizeMode.TextLine, CropHeight: 0 };
        ImageTargets.Require(textLine ? result.Width <= ow && result.Height == oh : result.Width == ow && result.Height == oh,
            $"'{text}' gave {result.Width}×{result.Height}, expected {ow}×{oh}");
        var tensor = new float[3 * ow * oh];
        ImageTransforms.ToTensor(result, spec, tensor);
        ImageTargets.Require(tensor.All(float.IsFinite), $"'{text}' gave a non-finite value");
    }

    /// <summary>The largest image the spec makes on the way (resize, then a crop that may pad), worked out independently of the code under test, in 64 bits.</summary>
    private static (long W, long H) LargestSize(PreprocessSpec spec, int width, int height)
    {
        long size = spec.ResizeHeight;
        (long w, long h) = spec.Resize switch
        {
            ResizeMode.ShorterSide => width <= height ? (size, size * height / width) : (size * width / height, size),
            ResizeMode.Exact or ResizeMode.Fit or ResizeMode.TextLine => ((long)spec.ResizeWidth, size),
            _ => ((long)width, (long)height),
        };
        return spec.CropHeight > 0 ? (Math.Max(w, spec.CropWidth), Math.Max(h, spec.CropHeight)) : (w, h);
    }

    private static void ExecuteAugment(byte[] data)
    {
        var spec = AugmentSpec.Parse(Encoding.UTF8.GetString(data));
        var augmenter = new Augmenter(spec, seed: 42);
        using var image = TestImage(9, 6);
        var final = new PreprocessSpec { Resize = ResizeMode.Exact, ResizeWidth = 8, ResizeHeight = 8 };
        for (var index = 0; index < 3; index++)
        {
            using var output = augmenter.Apply(image, final, epoch: 1, index);
            ImageTargets.Require(output.Width == 8 && output.Height == 8, $"augmented image is {output.Width}×{output.Height}");
            var tensor = new float[3 * 8 * 8];
            ImageTransforms.ToTensor(output, final, tensor);
            augmenter.Erase(tensor, 8, 8, epoch: 1, index);
            ImageTargets.Require(tensor.All(float.IsFinite), "augmentation produced a non-finite value");
        }
    }

    internal static RgbImage TestImage(int width, int height)
    {
        var image = RgbImage.Create(width, height);
        var pixels = image.Pixels;
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i * 37) + (i / 3));
        }

        return image;
    }

    private static IEnumerable<(string, byte[])> Texts(params string[] texts) =>
        texts.Select((t, i) => ($"seed{i}.txt", Encoding.UTF8.GetBytes(t)));
}

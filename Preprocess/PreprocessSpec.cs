using System.Globalization;
using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess;

/// <summary>How a resize step sizes the image.</summary>
public enum ResizeMode
{
    /// <summary>No resize.</summary>
    None,
    /// <summary>Shorter side to a size, aspect kept (torchvision <c>Resize(int)</c>).</summary>
    ShorterSide,
    /// <summary>Exactly H×W.</summary>
    Exact,
    /// <summary>Fit inside H×W keeping the aspect ratio, then pad to H×W.</summary>
    Fit,
    /// <summary>
    /// A text line as PaddleOCR's classifiers read it: height to H, width to
    /// min(W, ⌈H·w/h⌉) keeping the aspect ratio, then padded on the right to W with zeros
    /// in the tensor (after normalisation, not zero pixels).
    /// </summary>
    TextLine,
}

/// <summary>
/// A preprocessing spec, the one syntax every command shares: comma-separated tokens
/// <c>resize=S|HxW</c>, <c>fit=HxW</c>, <c>textline=HxW</c>, <c>crop=S|HxW</c>, <c>scale=F|1/N</c>,
/// <c>mean=a:b:c|m</c>, <c>std=a:b:c|s</c> (one value applies to every channel), <c>order=rgb|bgr</c>,
/// <c>layout=nchw|nhwc</c>, <c>pad=V</c>, and the presets <c>imagenet</c>, <c>caffe</c>,
/// <c>inception</c>, <c>paddle-cls</c> (later tokens override earlier ones).
/// </summary>
public sealed record PreprocessSpec
{
    /// <summary>How to resize.</summary>
    public ResizeMode Resize { get; init; }

    /// <summary>Target height (or the shorter side for <see cref="ResizeMode.ShorterSide"/>, the line height for <see cref="ResizeMode.TextLine"/>).</summary>
    public int ResizeHeight { get; init; }

    /// <summary>Target width (unused for <see cref="ResizeMode.ShorterSide"/>; the padded width for <see cref="ResizeMode.TextLine"/>).</summary>
    public int ResizeWidth { get; init; }

    /// <summary>Centre crop height, 0 for none.</summary>
    public int CropHeight { get; init; }

    /// <summary>Centre crop width, 0 for none.</summary>
    public int CropWidth { get; init; }

    /// <summary>Multiplier applied to 0–255 pixel values first.</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>Per-channel mean subtracted after scaling (in the output channel order).</summary>
    public ChannelValues Mean { get; init; } = ChannelValues.All(0f);

    /// <summary>Per-channel divisor applied after the mean.</summary>
    public ChannelValues Std { get; init; } = ChannelValues.All(1f);

    /// <summary>True for BGR channel order (Caffe/Keras VGG).</summary>
    public bool Bgr { get; init; }

    /// <summary>True for NHWC output; NCHW otherwise.</summary>
    public bool Nhwc { get; init; }

    /// <summary>Pad value for <c>fit</c>.</summary>
    public float PadValue { get; init; }

    /// <summary>
    /// The largest resize, fit or crop side a spec accepts. A spec can come from a model's metadata,
    /// so a size is bounded before any image of that size is allocated.
    /// </summary>
    public const int MaxSize = 16384;

    /// <summary>torchvision's ImageNet evaluation transform.</summary>
    public static PreprocessSpec ImageNet { get; } = new()
    {
        Resize = ResizeMode.ShorterSide, ResizeHeight = 256, CropHeight = 224, CropWidth = 224,
        Scale = 1f / 255, Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f],
    };

    /// <summary>Keras' VGG16/ResNet50 "caffe" mode: BGR, mean subtraction on 0–255 values.</summary>
    public static PreprocessSpec Caffe { get; } = new() { Bgr = true, Mean = [103.939f, 116.779f, 123.68f] };

    /// <summary>Inception-style scaling to [−1, 1].</summary>
    public static PreprocessSpec Inception { get; } = new() { Scale = 1f / 127.5f, Mean = [1f, 1f, 1f] };

    /// <summary>
    /// PaddleOCR's text-direction classifier (<c>cls_image_shape</c> 3,48,192): a BGR text line
    /// (PaddleOCR decodes with OpenCV) resized to height 48, width up to 192, <c>(x/255 − 0.5)/0.5</c>,
    /// zero-padded on the right.
    /// </summary>
    public static PreprocessSpec PaddleCls { get; } = new()
    {
        Resize = ResizeMode.TextLine, ResizeHeight = 48, ResizeWidth = 192, Scale = 1f / 255,
        Mean = [0.5f, 0.5f, 0.5f], Std = [0.5f, 0.5f, 0.5f], Bgr = true,
    };

    /// <summary>
    /// The fixed per-sample output size (height, width) this spec gives every image, or null when
    /// the size depends on the image (a shorter-side resize without a crop, or no resize at all).
    /// </summary>
    public (int Height, int Width)? OutputSize =>
        CropHeight > 0 ? (CropHeight, CropWidth)
        : Resize is ResizeMode.Exact or ResizeMode.Fit or ResizeMode.TextLine ? (ResizeHeight, ResizeWidth)
        : null;

    /// <summary>Parses a spec; a bad token is a <see cref="FormatException"/> naming it.</summary>
    public static PreprocessSpec Parse(string text)
    {
        var spec = new PreprocessSpec();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=');
            var key = (eq < 0 ? raw : raw[..eq]).ToLowerInvariant();
            var value = eq < 0 ? "" : raw[(eq + 1)..];
            spec = key switch
            {
                "imagenet" when eq < 0 => ImageNet,
                "caffe" when eq < 0 => Caffe,
                "inception" when eq < 0 => Inception,
                "paddle-cls" when eq < 0 => PaddleCls,
                "resize" => value.Contains('x', StringComparison.OrdinalIgnoreCase)
                    ? Size(raw, value) is var (h, w) ? spec with { Resize = ResizeMode.Exact, ResizeHeight = h, ResizeWidth = w } : spec
                    : spec with { Resize = ResizeMode.ShorterSide, ResizeHeight = Positive(raw, value), ResizeWidth = 0 },
                "fit" => Size(raw, value) is var (fh, fw) ? spec with { Resize = ResizeMode.Fit, ResizeHeight = fh, ResizeWidth = fw } : spec,
                "textline" => Size(raw, value) is var (th, tw) ? spec with { Resize = ResizeMode.TextLine, ResizeHeight = th, ResizeWidth = tw } : spec,
                "crop" => value.Contains('x', StringComparison.OrdinalIgnoreCase)
                    ? Size(raw, value) is var (ch, cw) ? spec with { CropHeight = ch, CropWidth = cw } : spec
                    : spec with { CropHeight = Positive(raw, value), CropWidth = Positive(raw, value) },
                "scale" => spec with { Scale = Number(raw, value) },
                "mean" => spec with { Mean = PerChannel(raw, value) },
                "std" => PerChannel(raw, value) is var std && std.Any(s => s == 0) ? throw Bad(raw, "std values must not be 0") : spec with { Std = std },
                "order" => value.ToLowerInvariant() switch
                {
                    "rgb" => spec with { Bgr = false },
                    "bgr" => spec with { Bgr = true },
                    _ => throw Bad(raw, "order is rgb or bgr"),
                },
                "layout" => value.ToLowerInvariant() switch
                {
                    "nchw" => spec with { Nhwc = false },
                    "nhwc" => spec with { Nhwc = true },
                    _ => throw Bad(raw, "layout is nchw or nhwc"),
                },
                "pad" => spec with { PadValue = Number(raw, value) },
                _ => throw Bad(raw, "unknown token; use resize=, fit=, textline=, crop=, scale=, mean=, std=, order=, layout=, pad= or a preset (imagenet, caffe, inception, paddle-cls)"),
            };
        }

        RequireFiniteOutput(spec, text);
        return spec;
    }

    /// <summary>
    /// Every value a pixel (0–255) can become must be finite, however the kernels group the
    /// arithmetic: a denormal std or a huge scale would fill the tensor with infinities.
    /// </summary>
    private static void RequireFiniteOutput(PreprocessSpec spec, string text)
    {
        for (var c = 0; c < spec.Std.Count; c++)
        {
            var (scale, mean, std) = (spec.Scale, spec.Mean[c], spec.Std[c]);
            if (!float.IsFinite(scale / std) || !float.IsFinite(mean / std) || !float.IsFinite(255f * scale / std)
                || !float.IsFinite(((255f * scale) - mean) / std) || !float.IsFinite(-mean / std))
            {
                throw new FormatException(SpecText.OneLine(Inv($"preprocess spec '{text}': channel {c} (scale {scale:R}, mean {mean:R}, std {std:R}) turns pixel values into infinities.")));
            }
        }
    }

    /// <summary>The spec as text that <see cref="Parse"/> reads back to an equal spec.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        switch (Resize)
        {
            case ResizeMode.ShorterSide:
                parts.Add(Inv($"resize={ResizeHeight}"));
                break;
            case ResizeMode.Exact:
                parts.Add(Inv($"resize={ResizeHeight}x{ResizeWidth}"));
                break;
            case ResizeMode.Fit:
                parts.Add(Inv($"fit={ResizeHeight}x{ResizeWidth}"));
                break;
            case ResizeMode.TextLine:
                parts.Add(Inv($"textline={ResizeHeight}x{ResizeWidth}"));
                break;
        }

        if (CropHeight > 0)
        {
            parts.Add(Inv($"crop={CropHeight}x{CropWidth}"));
        }

        parts.Add(Inv($"scale={Scale:R}"));
        parts.Add(Inv($"mean={Mean}"));
        parts.Add(Inv($"std={Std}"));
        parts.Add(Bgr ? "order=bgr" : "order=rgb");
        parts.Add(Nhwc ? "layout=nhwc" : "layout=nchw");
        if (PadValue != 0)
        {
            parts.Add(Inv($"pad={PadValue:R}"));
        }

        return string.Join(',', parts);
    }

    /// <inheritdoc/>
    public bool Equals(PreprocessSpec? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc/>
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static (int, int) Size(string token, string value)
    {
        var parts = value.ToLowerInvariant().Split('x');
        if (parts.Length != 2)
        {
            throw Bad(token, "expected HxW, e.g. 224x224");
        }

        return (Positive(token, parts[0]), Positive(token, parts[1]));
    }

    private static int Positive(string token, string value) =>
        !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 ? throw Bad(token, $"'{value}' is not a positive size")
        : n > MaxSize ? throw Bad(token, $"{n} is larger than the largest size a spec allows, {MaxSize}")
        : n;

    private static float Number(string token, string value)
    {
        var slash = value.IndexOf('/');
        if (slash > 0 && float.TryParse(value[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            && float.TryParse(value[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var b) && b != 0)
        {
            return float.IsFinite(a / b) ? a / b : throw Bad(token, $"'{value}' is not a finite number");
        }

        return float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v)
            ? v : throw Bad(token, $"'{value}' is not a number");
    }

    /// <summary>Three values <c>a:b:c</c>, or one value for every channel (<c>mean=0.5</c>, as Paddle and Hugging Face configs write it).</summary>
    private static ChannelValues PerChannel(string token, string value)
    {
        var parts = value.Split(':');
        return parts.Length switch
        {
            1 => ChannelValues.All(Number(token, value)),
            3 => new ChannelValues(Number(token, parts[0]), Number(token, parts[1]), Number(token, parts[2])),
            _ => throw Bad(token, "expected one value or three values a:b:c"),
        };
    }

    private static FormatException Bad(string token, string why) => new(SpecText.OneLine($"preprocess spec token '{token}': {why}."));
}

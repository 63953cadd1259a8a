using System.Globalization;
using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess;

/// <summary>How pixels outside the source image are filled (Keras' fill_mode).</summary>
public enum FillMode
{
    /// <summary>Repeat the edge pixel (Keras' default).</summary>
    Nearest,
    /// <summary>A constant value.</summary>
    Constant,
    /// <summary>Mirror at the edge (d c b a | a b c d | d c b a).</summary>
    Reflect,
    /// <summary>Tile the image (a b c d | a b c d | a b c d).</summary>
    Wrap,
}

/// <summary>
/// Training-time augmentation in Keras ImageDataGenerator vocabulary, comma-separated:
/// <c>rotation=DEG</c>, <c>shift=F</c> (or <c>wshift=</c>/<c>hshift=</c>; fractions of the size),
/// <c>shear=DEG</c>, <c>zoom=F|A:B</c>, <c>hflip</c>, <c>vflip</c>,
/// <c>fill=nearest|constant[:V]|reflect|wrap</c>, <c>brightness=F</c>, <c>contrast=F</c>,
/// <c>saturation=F</c>, <c>hue=F</c> (torchvision ColorJitter factors), <c>rrc=MIN:MAX</c>
/// (random resized crop area range) and <c>erase=P</c> (random erasing probability).
/// </summary>
public sealed record AugmentSpec
{
    /// <summary>Rotation range in degrees (uniform in ±range).</summary>
    public double Rotation { get; init; }

    /// <summary>Horizontal shift range, a fraction of the width.</summary>
    public double WidthShift { get; init; }

    /// <summary>Vertical shift range, a fraction of the height.</summary>
    public double HeightShift { get; init; }

    /// <summary>Shear range in degrees.</summary>
    public double Shear { get; init; }

    /// <summary>Zoom range (lower, upper); (1, 1) for none. Keras draws x and y zoom independently.</summary>
    public (double Low, double High) Zoom { get; init; } = (1, 1);

    /// <summary>Random horizontal flips.</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>Random vertical flips.</summary>
    public bool VerticalFlip { get; init; }

    /// <summary>How outside pixels are filled.</summary>
    public FillMode Fill { get; init; } = FillMode.Nearest;

    /// <summary>Fill value for <see cref="FillMode.Constant"/>.</summary>
    public byte FillValue { get; init; }

    /// <summary>Brightness jitter factor (factor drawn from [max(0, 1−b), 1+b]).</summary>
    public double Brightness { get; init; }

    /// <summary>Contrast jitter factor.</summary>
    public double Contrast { get; init; }

    /// <summary>Saturation jitter factor.</summary>
    public double Saturation { get; init; }

    /// <summary>Hue jitter (fraction of a turn, ≤ 0.5).</summary>
    public double Hue { get; init; }

    /// <summary>Random resized crop area range (fractions of the image), or null for none.</summary>
    public (double Min, double Max)? RandomResizedCrop { get; init; }

    /// <summary>Random erasing probability.</summary>
    public double Erase { get; init; }

    /// <summary>True when some geometric step is on.</summary>
    public bool HasGeometry => Rotation != 0 || WidthShift != 0 || HeightShift != 0 || Shear != 0 || Zoom != (1, 1)
        || HorizontalFlip || VerticalFlip || RandomResizedCrop is not null;

    /// <summary>True when some colour step is on.</summary>
    public bool HasColour => Brightness != 0 || Contrast != 0 || Saturation != 0 || Hue != 0;

    /// <summary>Parses a spec; a bad token is a <see cref="FormatException"/> naming it.</summary>
    public static AugmentSpec Parse(string text)
    {
        var spec = new AugmentSpec();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=');
            var key = (eq < 0 ? raw : raw[..eq]).ToLowerInvariant();
            var value = eq < 0 ? "" : raw[(eq + 1)..];
            spec = key switch
            {
                "hflip" when eq < 0 => spec with { HorizontalFlip = true },
                "vflip" when eq < 0 => spec with { VerticalFlip = true },
                "rotation" => spec with { Rotation = Number(raw, value, 0, 360) },
                "shift" => Number(raw, value, 0, 1) is var s ? spec with { WidthShift = s, HeightShift = s } : spec,
                "wshift" => spec with { WidthShift = Number(raw, value, 0, 1) },
                "hshift" => spec with { HeightShift = Number(raw, value, 0, 1) },
                "shear" => spec with { Shear = Number(raw, value, 0, 90) },
                "zoom" => spec with { Zoom = ZoomRange(raw, value) },
                "fill" => ParseFill(spec, raw, value),
                "brightness" => spec with { Brightness = Number(raw, value, 0, 10) },
                "contrast" => spec with { Contrast = Number(raw, value, 0, 10) },
                "saturation" => spec with { Saturation = Number(raw, value, 0, 10) },
                "hue" => spec with { Hue = Number(raw, value, 0, 0.5) },
                "rrc" => Pair(raw, value) is var (lo, hi) && lo > 0 && lo <= hi && hi <= 1 ? spec with { RandomResizedCrop = (lo, hi) } : throw Bad(raw, "rrc is MIN:MAX with 0 < MIN ≤ MAX ≤ 1"),
                "erase" => spec with { Erase = Number(raw, value, 0, 1) },
                _ => throw Bad(raw, "unknown token; use rotation=, shift=, wshift=, hshift=, shear=, zoom=, hflip, vflip, fill=, brightness=, contrast=, saturation=, hue=, rrc=, erase="),
            };
        }

        return spec;
    }

    private static AugmentSpec ParseFill(AugmentSpec spec, string raw, string value)
    {
        var parts = value.ToLowerInvariant().Split(':');
        return parts[0] switch
        {
            "nearest" when parts.Length == 1 => spec with { Fill = FillMode.Nearest },
            "reflect" when parts.Length == 1 => spec with { Fill = FillMode.Reflect },
            "wrap" when parts.Length == 1 => spec with { Fill = FillMode.Wrap },
            "constant" when parts.Length == 1 => spec with { Fill = FillMode.Constant, FillValue = 0 },
            "constant" when parts.Length == 2 => spec with { Fill = FillMode.Constant, FillValue = (byte)Number(raw, parts[1], 0, 255) },
            _ => throw Bad(raw, "fill is nearest, constant[:V], reflect or wrap"),
        };
    }

    private static (double, double) ZoomRange(string raw, string value)
    {
        if (value.Contains(':', StringComparison.Ordinal))
        {
            var (lo, hi) = Pair(raw, value);
            return lo > 0 && lo <= hi ? (lo, hi) : throw Bad(raw, "zoom A:B needs 0 < A ≤ B");
        }

        var z = Number(raw, value, 0, 0.99);
        return (1 - z, 1 + z);
    }

    private static (double, double) Pair(string raw, string value)
    {
        var parts = value.Split(':');
        return parts.Length == 2 ? (Number(raw, parts[0], 0, 100), Number(raw, parts[1], 0, 100)) : throw Bad(raw, "expected A:B");
    }

    private static double Number(string raw, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v : throw Bad(raw, $"'{value}' is not a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");

    private static FormatException Bad(string token, string why) => new(SpecText.OneLine($"augment spec token '{token}': {why}."));
}

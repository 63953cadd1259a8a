using SkiaSharp;

namespace OnnxCnn.Training.Inspection.Internal;

/// <summary>
/// The typeface for titles. SkiaSharp's NoDependencies native build has no fontconfig, so family names resolve to an
/// empty typeface on Linux: a font file is loaded directly instead (DejaVu Sans where installed).
/// </summary>
internal static class Fonts
{
    private static readonly string[] Candidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
        "/Library/Fonts/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        @"C:\Windows\Fonts\arial.ttf",
        @"C:\Windows\Fonts\segoeui.ttf",
    ];

    private static readonly Lazy<SKTypeface?> Loaded = new(Load);

    /// <summary>A typeface with glyphs, or null when the machine has none we know of (titles are then left out).</summary>
    public static SKTypeface? Sans => Loaded.Value;

    private static SKTypeface? Load()
    {
        var byName = SKTypeface.FromFamilyName("DejaVu Sans");
        if (byName is { GlyphCount: > 0 })
        {
            return byName;
        }

        foreach (var path in Candidates.Where(File.Exists))
        {
            if (SKTypeface.FromFile(path) is { GlyphCount: > 0 } face)
            {
                return face;
            }
        }

        return SKTypeface.Default is { GlyphCount: > 0 } fallback ? fallback : null;
    }
}

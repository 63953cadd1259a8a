using System.Runtime.InteropServices;
using OnnxCnn.Preprocess;
using ScottPlot;
using SkiaSharp;

namespace OnnxCnn.Training.Reports.Internal;

/// <summary>Renders ScottPlot plots into an <see cref="RgbImage"/> (white background, panels side by side).</summary>
internal static class ChartRaster
{
    private static readonly Lock FontLock = new();
    private static string? font;

    /// <summary>A plot on a white background with every text in the sans-serif font found on this machine.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        plot.FigureBackground.Color = Colors.White;
        plot.Font.Set(Font());
        return plot;
    }

    /// <summary>Draws each plot into its own <paramref name="panelWidth"/>×<paramref name="height"/> panel, left to right.</summary>
    public static RgbImage Render(IReadOnlyList<Plot> panels, int panelWidth, int height)
    {
        var width = panelWidth * panels.Count;
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info) ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}×{height} surface.");
        surface.Canvas.Clear(SKColors.White);
        for (var i = 0; i < panels.Count; i++)
        {
            // Each panel renders on its own surface: a plot clears the canvas it is given.
            using var panel = SKSurface.Create(new SKImageInfo(panelWidth, height, SKColorType.Rgba8888, SKAlphaType.Premul))!;
            panels[i].Render(panel.Canvas, panelWidth, height);
            using var snapshot = panel.Snapshot();
            surface.Canvas.DrawImage(snapshot, i * panelWidth, 0);
        }

        surface.Canvas.Flush();
        var rgba = new byte[width * height * 4];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            if (!surface.ReadPixels(info, handle.AddrOfPinnedObject(), width * 4, 0, 0))
            {
                throw new InvalidOperationException("SkiaSharp could not read the rendered chart back.");
            }
        }
        finally
        {
            handle.Free();
        }

        var image = RgbImage.Create(width, height);
        var pixels = image.Pixels;
        for (int p = 0, q = 0; p < rgba.Length; p += 4, q += 3)
        {
            // Opaque: the background is white, so premultiplied values are the colours.
            pixels[q] = rgba[p];
            pixels[q + 1] = rgba[p + 1];
            pixels[q + 2] = rgba[p + 2];
        }

        return image;
    }

    /// <summary>
    /// The family charts use: the first common sans-serif family the system has (SkiaSharp's
    /// NoDependencies build reads the system fonts without fontconfig, and ScottPlot's default name
    /// may not exist on Linux, which falls back to a serif face); where none resolves, a DejaVu or
    /// Liberation file from the usual folders is registered, so text never silently renders as nothing.
    /// </summary>
    private static string Font()
    {
        lock (FontLock)
        {
            if (font is not null)
            {
                return font;
            }

            foreach (var family in new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" })
            {
                using var typeface = SKFontManager.Default.MatchFamily(family);
                if (typeface is not null && typeface.FamilyName == family && typeface.GlyphCount > 0)
                {
                    return font = family;
                }
            }

            string[] files =
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            ];
            font = Fonts.Default;
            if (files.FirstOrDefault(File.Exists) is { } file)
            {
                Fonts.AddFontFile(font, file);
            }

            return font;
        }
    }
}

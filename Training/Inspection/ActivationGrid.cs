using System.Globalization;
using OnnxCnn.Training.Inspection.Internal;
using OnnxCnn.Training.Internal;
using SkiaSharp;

namespace OnnxCnn.Training.Inspection;

/// <summary>Where a grid puts its title and cells (pixels).</summary>
/// <param name="Rows">Rows of cells.</param>
/// <param name="Columns">Cells per row.</param>
/// <param name="Scale">Each activation pixel is drawn as Scale×Scale image pixels (nearest neighbour).</param>
/// <param name="CellWidth">Cell width: the map's width × <paramref name="Scale"/>.</param>
/// <param name="CellHeight">Cell height: the map's height × <paramref name="Scale"/>.</param>
/// <param name="TitleHeight">Height of the title band at the top (0 without a title).</param>
/// <param name="Width">Image width.</param>
/// <param name="Height">Image height.</param>
public readonly record struct GridLayout(int Rows, int Columns, int Scale, int CellWidth, int CellHeight, int TitleHeight, int Width, int Height)
{
    /// <summary>Space around the grid.</summary>
    public const int Margin = 4;

    /// <summary>Space between cells.</summary>
    public const int Gap = 2;

    /// <summary>The top-left pixel of channel <paramref name="channel"/>'s cell (row-major, left to right).</summary>
    public (int X, int Y) CellOrigin(int channel) =>
        (Margin + (channel % Columns * (CellWidth + Gap)), TitleHeight + Margin + (channel / Columns * (CellHeight + Gap)));
}

/// <summary>
/// Draws a layer's channels as a grid of small images, one per channel, normalised per channel as the Keras
/// practice does (subtract the mean, divide by the standard deviation, ×64 + 128, clipped to 0–255) and coloured with
/// viridis, under a title naming the layer, its tensor and shape.
/// </summary>
public static class ActivationGrid
{
    /// <summary>Cells smaller than this (pixels) are drawn enlarged by a whole factor.</summary>
    public const int MinCellSize = 32;

    /// <summary>Title font size (pixels).</summary>
    public const float TitleSize = 14;

    /// <summary>The background (dark grey), also between cells.</summary>
    public static readonly (byte R, byte G, byte B) Background = (32, 32, 32);

    /// <summary>The layout for <paramref name="channels"/> maps of <paramref name="height"/>×<paramref name="width"/>, <paramref name="perRow"/> per row.</summary>
    public static GridLayout Layout(int channels, int height, int width, int perRow, string? title = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perRow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var columns = Math.Min(perRow, channels);
        var rows = (channels + columns - 1) / columns;
        var scale = Math.Max(1, (MinCellSize + Math.Max(height, width) - 1) / Math.Max(height, width));
        var (cellW, cellH) = (width * scale, height * scale);
        var titleHeight = title is null || Fonts.Sans is null ? 0 : (int)MathF.Ceiling(TitleSize * 1.8f);
        var gridWidth = (2 * GridLayout.Margin) + (columns * cellW) + ((columns - 1) * GridLayout.Gap);
        var titleWidth = title is null || Fonts.Sans is null ? 0 : (int)MathF.Ceiling(MeasureTitle(title)) + (4 * GridLayout.Margin);
        var gridHeight = (2 * GridLayout.Margin) + (rows * cellH) + ((rows - 1) * GridLayout.Gap);
        return new GridLayout(rows, columns, scale, cellW, cellH, titleHeight, Math.Max(gridWidth, titleWidth), titleHeight + gridHeight);
    }

    /// <summary>The title of a layer's grid: name, tensor (when it differs) and shape.</summary>
    public static string TitleOf(LayerActivation activation)
    {
        var shape = string.Join("×", activation.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var layer = activation.Layer;
        return layer.Name == layer.Tensor ? $"{layer.Name}  {shape}" : $"{layer.Name} → {layer.Tensor}  {shape}";
    }

    /// <summary>
    /// Keras' channel normalisation: (x − mean) / std × 64 + 128, clipped to 0–255 (std taken as 1 when it is 0, so a
    /// constant channel is mid-grey).
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> channel, Span<byte> destination)
    {
        double sum = 0;
        foreach (var v in channel)
        {
            sum += v;
        }

        var mean = sum / channel.Length;
        double squares = 0;
        foreach (var v in channel)
        {
            squares += (v - mean) * (v - mean);
        }

        var std = Math.Sqrt(squares / channel.Length);
        var scale = std > 0 && double.IsFinite(std) ? 64 / std : 0;
        for (var i = 0; i < channel.Length; i++)
        {
            var value = ((channel[i] - mean) * scale) + 128;
            destination[i] = (byte)Math.Clamp(Math.Round(value), 0, 255);
        }
    }

    /// <summary>The grid of every channel of a feature map, as PNG bytes.</summary>
    /// <param name="activation">An N×C×H×W activation (the first image is drawn).</param>
    /// <param name="perRow">Cells per row.</param>
    public static byte[] Draw(LayerActivation activation, int perRow = 16)
    {
        var (channels, height, width) = (activation.Channels, activation.Height, activation.Width);
        var title = TitleOf(activation);
        var layout = Layout(channels, height, width, perRow, title);
        var info = new SKImageInfo(layout.Width, layout.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var surface = SKSurface.Create(info) ?? throw new InvalidOperationException($"cannot create a {layout.Width}×{layout.Height} drawing surface.");
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor(Background.R, Background.G, Background.B));
        var levels = new byte[height * width];
        var pixels = new byte[height * width * 4];
        var viridis = ColorMapTables.Viridis;
        using var paint = new SKPaint { IsAntialias = false };
        for (var c = 0; c < channels; c++)
        {
            Normalize(activation.Channel(c), levels);
            for (var i = 0; i < levels.Length; i++)
            {
                var k = levels[i] * 3;
                (pixels[i * 4], pixels[(i * 4) + 1], pixels[(i * 4) + 2], pixels[(i * 4) + 3]) = (viridis[k], viridis[k + 1], viridis[k + 2], 255);
            }

            using var cell = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), pixels)
                ?? throw new InvalidOperationException("cannot create a cell image.");
            var (x, y) = layout.CellOrigin(c);
            canvas.DrawImage(cell, new SKRect(x, y, x + layout.CellWidth, y + layout.CellHeight), new SKSamplingOptions(SKFilterMode.Nearest), paint);
        }

        if (layout.TitleHeight > 0)
        {
            DrawTitle(canvas, title, layout);
        }

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>Writes the grid to <paramref name="path"/> through a temporary file, so a failure leaves nothing half-written.</summary>
    public static void Save(LayerActivation activation, string path, int perRow = 16) => AtomicFile.Write(path, Draw(activation, perRow));

    private static void DrawTitle(SKCanvas canvas, string title, GridLayout layout)
    {
        using var font = new SKFont(Fonts.Sans, TitleSize) { Edging = SKFontEdging.Antialias };
        using var paint = new SKPaint { Color = new SKColor(235, 235, 235), IsAntialias = true };
        canvas.DrawText(title, 2 * GridLayout.Margin, (layout.TitleHeight + TitleSize) / 2, SKTextAlign.Left, font, paint);
    }

    private static float MeasureTitle(string title)
    {
        using var font = new SKFont(Fonts.Sans, TitleSize);
        return font.MeasureText(title);
    }
}

using System.Globalization;
using ScottPlot;

namespace OnnxCnn.Training.Reports.Internal;

/// <summary>
/// confusion.png: a heat map of counts (rows = true label, columns = predicted label) from white to
/// dark blue by count relative to the largest, the count in every cell that fits it, a colour bar,
/// and the class names (truncated) on both axes. The matrix sits at a fixed place (<see cref="Layout"/>).
/// </summary>
internal static class ConfusionChart
{
    public const int MaxLabelLength = 20;
    private const int Top = 50;
    private const int Right = 120;
    private const int MinSide = 480;

    private static readonly IColormap Colormap = new ScottPlot.Colormaps.Blues().Reversed();

    /// <summary>Where the matrix lies: its top-left corner, the cell size and the image size.</summary>
    public static (int Left, int Top, int Cell, int Width, int Height) Layout(IReadOnlyList<string> labels)
    {
        var n = Math.Max(1, labels.Count);
        var cell = Math.Clamp(640 / n, 8, 72);
        var longest = labels.Select(l => Truncate(l).Length).DefaultIfEmpty(1).Max();

        // Room for the axis title and the longest label (about 0.62 em per character), upright on the left, at 45° below.
        var text = longest * LabelSize(cell) * 0.62;
        var left = 44 + (int)Math.Ceiling(text);
        var bottom = 44 + (int)Math.Ceiling((text * 0.72) + LabelSize(cell));
        var side = Math.Max(n * cell, MinSide - left - Right);
        cell = side / n;
        return (left, Top, cell, left + (n * cell) + Right, Top + (n * cell) + bottom);
    }

    public static string Truncate(string label) => label.Length <= MaxLabelLength ? label : label[..(MaxLabelLength - 2)] + "..";

    /// <summary>The colour of a cell holding <paramref name="count"/> of at most <paramref name="max"/>.</summary>
    public static (byte R, byte G, byte B) CellColor(long count, long max)
    {
        var c = Colormap.GetColor(max == 0 ? 0 : (double)count / max);
        return (c.R, c.G, c.B);
    }

    /// <summary>The chart as a plot of <see cref="Layout"/>'s size; <paramref name="labels"/> false leaves out every text.</summary>
    public static Plot Build(IReadOnlyList<string> classes, long[,] counts, bool labels = true)
    {
        var n = classes.Count;
        var (left, top, cell, width, height) = Layout(classes);
        long max = 0;
        var values = new double[n, n];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                max = Math.Max(max, counts[r, c]);

                // Heat map rows run bottom to top; the matrix reads top to bottom.
                values[n - 1 - r, c] = counts[r, c];
            }
        }

        var plot = ChartRaster.NewPlot();
        plot.Layout.Fixed(new PixelPadding(left, width - left - (n * cell), height - top - (n * cell), top));
        var map = plot.Add.Heatmap(values);
        map.Colormap = Colormap;
        map.ManualRange = new ScottPlot.Range(0, Math.Max(1, max));
        map.FlipVertically = true;

        // Cells are centred on whole coordinates: column c spans c ± 0.5, heat-map row k spans k ± 0.5.
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var names = classes.Select(Truncate).ToArray();
        plot.Axes.Bottom.SetTicks(positions, labels ? names : new string[n]);
        plot.Axes.Left.SetTicks(positions.Reverse().ToArray(), labels ? names : new string[n]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.MinimumSize = height - top - (n * cell) - 4;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.TickLabelStyle.FontSize = LabelSize(cell);
        plot.Axes.Left.TickLabelStyle.FontSize = LabelSize(cell);
        var bar = plot.Add.ColorBar(map);
        bar.Label = labels ? "count" : "";
        if (!labels)
        {
            return plot;
        }

        plot.Title("Confusion matrix");
        plot.XLabel("predicted label");
        plot.YLabel("true label");
        AddCounts(plot, counts, max, cell);
        return plot;
    }

    /// <summary>The count in every cell it fits, dark on light cells and light on dark ones.</summary>
    private static void AddCounts(Plot plot, long[,] counts, long max, int cell)
    {
        var n = counts.GetLength(0);
        var countSize = Math.Min(18, cell * 0.4f);
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                var text = counts[r, c].ToString(CultureInfo.InvariantCulture);
                if (countSize < 6 || text.Length * countSize * 0.62 > cell - 4)
                {
                    continue;
                }

                var (cr, cg, cb) = CellColor(counts[r, c], max);
                var label = plot.Add.Text(text, c, n - 1 - r);
                label.LabelFontSize = countSize;
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontColor = cr + cg + cb > 3 * 140 ? Colors.Black : Colors.White;
            }
        }
    }

    private static float LabelSize(int cell) => Math.Clamp(cell * 0.45f, 9, 14);
}

using System.Globalization;

namespace OnnxCnn.Training.Reports.Internal;

/// <summary>
/// confusion.png: a heat map of counts (rows = true label, columns = predicted label), cell
/// colour from white to dark blue by count relative to the largest, counts printed in cells that
/// fit them, class labels (truncated) on both axes.
/// </summary>
internal static class ConfusionChart
{
    public const int MaxLabelLength = 14;
    private const int Scale = 2;
    private const int Top = 70;
    private const int Margin = 30;
    private const int MinWidth = 520;

    public static readonly Rgb Empty = new(247, 251, 255);
    public static readonly Rgb Full = new(8, 48, 107);

    /// <summary>Where the matrix lies: its top-left corner, the cell size and the image size.</summary>
    public static (int Left, int Top, int Cell, int Width, int Height) Layout(IReadOnlyList<string> labels)
    {
        var n = Math.Max(1, labels.Count);
        var cell = Math.Clamp(640 / n, 6, 72);
        var labelScale = LabelScale(cell);
        var longest = labels.Select(l => BitmapFont.Measure(Truncate(l), labelScale)).DefaultIfEmpty(0).Max();
        var left = Margin + BitmapFont.LineHeight(Scale) + 16 + longest + 10;
        var natural = left + (n * cell) + Margin;
        var width = Math.Max(natural, MinWidth);
        // A small matrix is centred in the minimum width (room for the title).
        left += (width - natural) / 2;
        var height = Top + (n * cell) + 10 + longest + 16 + BitmapFont.LineHeight(Scale) + Margin;
        return (left, Top, cell, width, height);
    }

    public static string Truncate(string label) => label.Length <= MaxLabelLength ? label : label[..(MaxLabelLength - 2)] + "..";

    /// <summary>The colour of a cell holding <paramref name="count"/> of at most <paramref name="max"/>.</summary>
    public static Rgb CellColor(long count, long max) => Empty.Mix(Full, max == 0 ? 0 : (double)count / max);

    public static void Draw(Canvas canvas, IReadOnlyList<string> labels, long[,] counts)
    {
        var n = labels.Count;
        var (left, top, cell, width, _) = Layout(labels);
        canvas.Clear(Rgb.White);
        long max = 0;
        foreach (var c in counts)
        {
            max = Math.Max(max, c);
        }

        canvas.TextCentered(width / 2, 20, "Confusion matrix", PlotArea.Ink, Scale + 1);
        var labelScale = LabelScale(cell);
        var labelHeight = BitmapFont.LineHeight(labelScale);
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                var color = CellColor(counts[r, c], max);
                canvas.FillRect(left + (c * cell), top + (r * cell), cell - 1, cell - 1, color);
                var text = counts[r, c].ToString(CultureInfo.InvariantCulture);
                var textScale = BitmapFont.Measure(text, Scale) <= cell - 6 && BitmapFont.LineHeight(Scale) <= cell - 6 ? Scale
                    : BitmapFont.Measure(text, 1) <= cell - 4 && BitmapFont.LineHeight(1) <= cell - 4 ? 1 : 0;
                if (textScale > 0)
                {
                    // Dark text on light cells, light text on dark ones.
                    var ink = color.R + color.G + color.B > 3 * 140 ? PlotArea.Ink : Rgb.White;
                    canvas.TextCentered(left + (c * cell) + (cell / 2), top + (r * cell) + ((cell - BitmapFont.LineHeight(textScale)) / 2), text, ink, textScale);
                }
            }

            var label = Truncate(labels[r]);
            canvas.Text(left - 10 - BitmapFont.Measure(label, labelScale), top + (r * cell) + ((cell - labelHeight) / 2), label, PlotArea.Ink, labelScale);
            canvas.TextVertical(left + (r * cell) + ((cell - labelHeight) / 2), top + (n * cell) + 10 + BitmapFont.Measure(label, labelScale), label, PlotArea.Ink, labelScale);
        }

        var longest = labels.Select(l => BitmapFont.Measure(Truncate(l), labelScale)).DefaultIfEmpty(0).Max();
        canvas.TextCentered(left + (n * cell / 2), top + (n * cell) + 10 + longest + 16, "predicted label", PlotArea.Ink, Scale);
        var axisTitleX = left - 10 - longest - 16 - BitmapFont.LineHeight(Scale);
        canvas.TextVertical(axisTitleX, top + (n * cell / 2) + (BitmapFont.Measure("true label", Scale) / 2), "true label", PlotArea.Ink, Scale);
    }

    private static int LabelScale(int cell) => cell >= BitmapFont.LineHeight(2) + 4 ? 2 : 1;
}

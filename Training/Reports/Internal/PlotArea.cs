namespace OnnxCnn.Training.Reports.Internal;

/// <summary>
/// One chart panel: the plot rectangle in image pixels, nice ticks on both axes and the mapping
/// from data to continuous image coordinates. The data range maps to the rectangle shrunk by
/// <see cref="Inset"/> so lines never sit on the frame.
/// </summary>
internal sealed class PlotArea(int left, int top, int width, int height, NiceTicks x, NiceTicks y)
{
    public const int Inset = 6;

    public static readonly Rgb Frame = new(60, 60, 60);
    public static readonly Rgb Grid = new(228, 228, 228);
    public static readonly Rgb Ink = new(30, 30, 30);

    public int Left { get; } = left;

    public int Top { get; } = top;

    public int Width { get; } = width;

    public int Height { get; } = height;

    public NiceTicks XTicks { get; } = x;

    public NiceTicks YTicks { get; } = y;

    public double MapX(double value) => Left + Inset + ((value - XTicks.Min) / (XTicks.Max - XTicks.Min) * (Width - (2 * Inset)));

    public double MapY(double value) => Top + Height - Inset - ((value - YTicks.Min) / (YTicks.Max - YTicks.Min) * (Height - (2 * Inset)));

    /// <summary>Grid, frame, ticks, tick labels, title and axis labels.</summary>
    public void DrawAxes(Canvas canvas, string title, string xLabel, string yLabel, int scale)
    {
        var textHeight = BitmapFont.LineHeight(scale);
        foreach (var v in XTicks.Values)
        {
            var px = (int)Math.Floor(MapX(v));
            canvas.VLine(px, Top, Top + Height - 1, Grid);
            canvas.VLine(px, Top + Height, Top + Height + 4, Frame);
            canvas.TextCentered(px, Top + Height + 8, XTicks.Format(v), Ink, scale);
        }

        foreach (var v in YTicks.Values)
        {
            var py = (int)Math.Floor(MapY(v));
            canvas.HLine(Left, Left + Width - 1, py, Grid);
            canvas.HLine(Left - 5, Left - 1, py, Frame);
            var label = YTicks.Format(v);
            canvas.Text(Left - 9 - BitmapFont.Measure(label, scale), py - (textHeight / 2), label, Ink, scale);
        }

        canvas.HLine(Left - 1, Left + Width, Top - 1, Frame);
        canvas.HLine(Left - 1, Left + Width, Top + Height, Frame);
        canvas.VLine(Left - 1, Top - 1, Top + Height, Frame);
        canvas.VLine(Left + Width, Top - 1, Top + Height, Frame);
        canvas.TextCentered(Left + (Width / 2), Top - textHeight - 14, title, Ink, scale + 1);
        canvas.TextCentered(Left + (Width / 2), Top + Height + 16 + textHeight, xLabel, Ink, scale);
        var widest = YTicks.Values.Max(v => BitmapFont.Measure(YTicks.Format(v), scale));
        canvas.TextVertical(Left - 20 - widest - textHeight, Top + (Height / 2) + (BitmapFont.Measure(yLabel, scale) / 2), yLabel, Ink, scale);
    }

    /// <summary>A series with gaps at non-finite values; runs of one point draw as a dot.</summary>
    public void DrawSeries(Canvas canvas, IReadOnlyList<double> xs, IReadOnlyList<double> ys, Rgb color, double width)
    {
        var run = new List<(double, double)>();
        for (var i = 0; i <= ys.Count; i++)
        {
            if (i < ys.Count && double.IsFinite(ys[i]))
            {
                run.Add((MapX(xs[i]), MapY(ys[i])));
                continue;
            }

            if (run.Count == 1)
            {
                canvas.Dot(run[0].Item1, run[0].Item2, Math.Max(2, width), color);
            }
            else if (run.Count > 1)
            {
                canvas.Polyline(run.ToArray(), color, width);
            }

            run.Clear();
        }
    }
}

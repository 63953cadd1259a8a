namespace OnnxCnn.Training.Reports.Internal;

/// <summary>
/// curves.png: a loss panel and an accuracy panel over epochs, train and validation, each raw
/// (thin, light) and EMA-smoothed with factor 0.8 (bold), and one legend under both.
/// </summary>
internal static class CurvesChart
{
    public const int Width = 1200;
    public const int Height = 540;
    public const double SmoothingFactor = 0.8;
    public const double RawWidth = 2;
    public const double SmoothWidth = 3;
    private const int Scale = 2;
    private const int LegendHeight = 50;

    public static readonly Rgb Train = new(31, 119, 180);
    public static readonly Rgb Validation = new(230, 100, 10);
    public static readonly Rgb TrainRaw = Train.Mix(Rgb.White, 0.6);
    public static readonly Rgb ValidationRaw = Validation.Mix(Rgb.White, 0.6);

    /// <summary>The two panels (loss, accuracy) a history is drawn in.</summary>
    public static (PlotArea Loss, PlotArea Accuracy) Layout(IReadOnlyList<EpochResult> history)
    {
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        var x = NiceTicks.Cover(epochs.DefaultIfEmpty(1).Min(), Math.Max(epochs.DefaultIfEmpty(1).Max(), epochs.DefaultIfEmpty(1).Min() + 1), 8, integer: true);
        PlotArea Panel(int index, IEnumerable<double> values)
        {
            var finite = values.Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
            const int left = 110, right = 30, top = 60, bottom = 80;
            var panelWidth = Width / 2;
            return new PlotArea((index * panelWidth) + left, top, panelWidth - left - right, Height - LegendHeight - top - bottom, x, NiceTicks.Cover(finite.Min(), finite.Max()));
        }

        return (Panel(0, history.SelectMany(h => new[] { h.TrainLoss, h.ValidationLoss })), Panel(1, history.SelectMany(h => new[] { h.TrainAccuracy, h.ValidationAccuracy })));
    }

    /// <summary>EMA of the finite values (Metrics' smoothing), NaN where the raw value is not finite.</summary>
    public static double[] SmoothSkippingGaps(IReadOnlyList<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        var smooth = ClassificationMetrics.Smooth(finite, SmoothingFactor);
        var result = new double[values.Count];
        for (int i = 0, k = 0; i < values.Count; i++)
        {
            result[i] = double.IsFinite(values[i]) ? smooth[k++] : double.NaN;
        }

        return result;
    }

    public static void Draw(Canvas canvas, IReadOnlyList<EpochResult> history)
    {
        canvas.Clear(Rgb.White);
        var (loss, accuracy) = Layout(history);
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        var hasValidation = history.Any(h => double.IsFinite(h.ValidationLoss) || double.IsFinite(h.ValidationAccuracy));
        foreach (var (area, title, train, validation) in new[]
        {
            (loss, "Loss", history.Select(h => h.TrainLoss).ToArray(), history.Select(h => h.ValidationLoss).ToArray()),
            (accuracy, "Accuracy", history.Select(h => h.TrainAccuracy).ToArray(), history.Select(h => h.ValidationAccuracy).ToArray()),
        })
        {
            area.DrawAxes(canvas, title, "epoch", title.ToLowerInvariant(), Scale);
            // Raw lines first, smoothed on top; validation over train within each layer.
            area.DrawSeries(canvas, epochs, train, TrainRaw, RawWidth);
            area.DrawSeries(canvas, epochs, validation, ValidationRaw, RawWidth);
            area.DrawSeries(canvas, epochs, SmoothSkippingGaps(train), Train, SmoothWidth);
            area.DrawSeries(canvas, epochs, SmoothSkippingGaps(validation), Validation, SmoothWidth);
        }

        var entries = new List<(string, Rgb, double)> { ("train", TrainRaw, RawWidth), ("train (EMA 0.8)", Train, SmoothWidth) };
        if (hasValidation)
        {
            entries.Add(("val", ValidationRaw, RawWidth));
            entries.Add(("val (EMA 0.8)", Validation, SmoothWidth));
        }

        if (history.Count == 0)
        {
            canvas.TextCentered(Width / 2, Height / 2, "no epochs", PlotArea.Ink, Scale + 1);
        }

        DrawLegend(canvas, entries, Height - LegendHeight + 10);
    }

    private static void DrawLegend(Canvas canvas, IReadOnlyList<(string Label, Rgb Color, double Width)> entries, int y)
    {
        const int sample = 36, gap = 12, spacing = 40;
        var total = entries.Sum(e => sample + gap + BitmapFont.Measure(e.Label, Scale)) + (spacing * (entries.Count - 1));
        var x = (canvas.Width - total) / 2;
        var middle = y + (BitmapFont.LineHeight(Scale) / 2);
        foreach (var (label, color, width) in entries)
        {
            canvas.Polyline([(x, middle + 0.5), (x + sample, middle + 0.5)], color, width);
            canvas.Text(x + sample + gap, y, label, PlotArea.Ink, Scale);
            x += sample + gap + BitmapFont.Measure(label, Scale) + spacing;
        }
    }
}

using ScottPlot;

namespace OnnxCnn.Training.Reports.Internal;

/// <summary>
/// curves.png: a loss panel and an accuracy panel over epochs, train and validation, each raw
/// (thin, light) and EMA-smoothed with factor 0.8 (bold), with a legend and axis titles.
/// </summary>
internal static class CurvesChart
{
    public const int Width = 1200;
    public const int Height = 540;
    public const double SmoothingFactor = 0.8;

    public static readonly Color Train = Color.FromHex("#1F77B4");
    public static readonly Color Validation = Color.FromHex("#E6640A");

    /// <summary>The two panels; <paramref name="labels"/> false draws every text in the background colour (tests compare against it).</summary>
    public static IReadOnlyList<Plot> Build(IReadOnlyList<EpochResult> history, bool labels = true)
    {
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        return
        [
            Panel(epochs, history.Select(h => h.TrainLoss).ToArray(), history.Select(h => h.ValidationLoss).ToArray(), "Loss", "loss", labels),
            Panel(epochs, history.Select(h => h.TrainAccuracy).ToArray(), history.Select(h => h.ValidationAccuracy).ToArray(), "Accuracy", "accuracy", labels),
        ];
    }

    /// <summary>EMA of the finite values (<see cref="ClassificationMetrics.Smooth"/>), NaN where the raw value is not finite.</summary>
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

    private static Plot Panel(double[] epochs, double[] train, double[] validation, string title, string metric, bool labels)
    {
        var plot = ChartRaster.NewPlot();
        AddSeries(plot, epochs, train, Train.WithAlpha(0.35), 1.5, $"train {metric}");
        AddSeries(plot, epochs, SmoothSkippingGaps(train), Train, 3, $"train {metric} (EMA 0.8)");
        if (validation.Any(double.IsFinite))
        {
            AddSeries(plot, epochs, validation, Validation.WithAlpha(0.35), 1.5, $"validation {metric}");
            AddSeries(plot, epochs, SmoothSkippingGaps(validation), Validation, 3, $"validation {metric} (EMA 0.8)");
        }

        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(metric);
        if (!labels)
        {
            // The same layout with every text in the background colour: what tests compare against.
            foreach (var style in new[] { plot.Axes.Title.Label, plot.Axes.Bottom.Label, plot.Axes.Left.Label, plot.Axes.Bottom.TickLabelStyle, plot.Axes.Left.TickLabelStyle })
            {
                style.ForeColor = Colors.White;
            }

            plot.Legend.FontColor = Colors.White;
        }

        if (epochs.Length > 0)
        {
            // Under the panel, where no curve can hide behind it.
            plot.ShowLegend(Edge.Bottom);
        }

        // Whole epochs on the x axis; one epoch still gets a readable range around it.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (epochs.Length <= 1)
        {
            var at = epochs.DefaultIfEmpty(1).First();
            plot.Axes.SetLimitsX(at - 1, at + 1);
        }

        return plot;
    }

    /// <summary>One curve; a non-finite value (no validation, a diverged epoch) leaves a gap, and an isolated point is a dot.</summary>
    private static void AddSeries(Plot plot, double[] xs, double[] ys, Color color, double width, string? legend)
    {
        var start = 0;
        while (start < ys.Length)
        {
            if (!double.IsFinite(ys[start]))
            {
                start++;
                continue;
            }

            var end = start;
            while (end < ys.Length && double.IsFinite(ys[end]))
            {
                end++;
            }

            var scatter = plot.Add.Scatter(xs[start..end], ys[start..end], color);
            scatter.LineWidth = (float)width;
            scatter.MarkerSize = end - start == 1 ? 3 * (float)width : 0;
            scatter.LegendText = legend ?? "";
            legend = null;
            start = end;
        }
    }
}

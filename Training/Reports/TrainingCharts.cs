using OnnxCnn.Preprocess;
using OnnxCnn.Training.Reports.Internal;

namespace OnnxCnn.Training.Reports;

/// <summary>The fine-tune report charts, drawn with ScottPlot: training curves and the confusion matrix.</summary>
public static class TrainingCharts
{
    /// <summary>
    /// Loss and accuracy over epochs (two panels, 1200×540), train and validation, raw as thin light
    /// lines and EMA-smoothed (factor 0.8) as bold lines, with a legend and axis titles. Non-finite
    /// values (no validation, a diverged epoch) leave gaps. Dispose the returned image.
    /// </summary>
    public static RgbImage RenderCurves(IReadOnlyList<EpochResult> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return RenderCurves(history, labels: true);
    }

    /// <summary>The curves with or without their text (titles, axis titles, tick labels, legend).</summary>
    internal static RgbImage RenderCurves(IReadOnlyList<EpochResult> history, bool labels) =>
        ChartRaster.Render(CurvesChart.Build(history, labels), CurvesChart.Width / 2, CurvesChart.Height);

    /// <summary>
    /// A confusion-matrix heat map: row = true label, column = predicted label, counts in the cells,
    /// a colour bar, class names on both axes (longer than 20 characters truncated). Dispose the returned image.
    /// </summary>
    public static RgbImage RenderConfusion(IReadOnlyList<string> labels, long[,] confusion) => RenderConfusion(labels, confusion, text: true);

    /// <summary>The confusion matrix with or without its text.</summary>
    internal static RgbImage RenderConfusion(IReadOnlyList<string> labels, long[,] confusion, bool text)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(confusion);
        if (labels.Count == 0 || confusion.GetLength(0) != labels.Count || confusion.GetLength(1) != labels.Count)
        {
            throw new ArgumentException($"a {confusion.GetLength(0)}×{confusion.GetLength(1)} confusion matrix does not match {labels.Count} labels.", nameof(confusion));
        }

        var (_, _, _, width, height) = ConfusionChart.Layout(labels);
        return ChartRaster.Render([ConfusionChart.Build(labels, confusion, text)], width, height);
    }

    /// <summary>Writes curves.png atomically (temporary file, then rename).</summary>
    public static void SaveCurves(string path, IReadOnlyList<EpochResult> history)
    {
        using var image = RenderCurves(history);
        PngEncoder.Save(image, path);
    }

    /// <summary>Writes confusion.png atomically (temporary file, then rename).</summary>
    public static void SaveConfusion(string path, ClassificationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        using var image = RenderConfusion(metrics.Labels, metrics.Confusion);
        PngEncoder.Save(image, path);
    }
}

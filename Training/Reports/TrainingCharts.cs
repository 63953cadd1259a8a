using OnnxCnn.Preprocess;
using OnnxCnn.Training.Reports.Internal;

namespace OnnxCnn.Training.Reports;

/// <summary>
/// The fine-tune report charts, drawn with a built-in bitmap font on top of <see cref="PngEncoder"/>
/// (no plotting library): training curves and the confusion matrix.
/// </summary>
public static class TrainingCharts
{
    /// <summary>
    /// Loss and accuracy over epochs (two panels), train and validation, raw as thin light lines and
    /// EMA-smoothed (factor 0.8) as bold lines. Non-finite values (no validation, a diverged epoch)
    /// leave gaps. Dispose the returned image.
    /// </summary>
    public static RgbImage RenderCurves(IReadOnlyList<EpochResult> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var image = RgbImage.Create(CurvesChart.Width, CurvesChart.Height);
        CurvesChart.Draw(new Canvas(image), history);
        return image;
    }

    /// <summary>
    /// A confusion-matrix heat map: row = true label, column = predicted label, counts in the cells,
    /// labels longer than 14 characters truncated. Dispose the returned image.
    /// </summary>
    public static RgbImage RenderConfusion(IReadOnlyList<string> labels, long[,] confusion)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(confusion);
        if (labels.Count == 0 || confusion.GetLength(0) != labels.Count || confusion.GetLength(1) != labels.Count)
        {
            throw new ArgumentException($"a {confusion.GetLength(0)}×{confusion.GetLength(1)} confusion matrix does not match {labels.Count} labels.", nameof(confusion));
        }

        var (_, _, _, width, height) = ConfusionChart.Layout(labels);
        var image = RgbImage.Create(width, height);
        ConfusionChart.Draw(new Canvas(image), labels, confusion);
        return image;
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

using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Reports;
using OnnxCnn.Training.Reports.Internal;
using ScottPlot;

namespace OnnxCnn.Training.Tests;

/// <summary>Pixel statistics of rendered charts: what a chart test may rely on (not exact pixels).</summary>
internal static class ChartPixels
{
    public static (byte R, byte G, byte B) At(RgbImage image, double x, double y)
    {
        var row = image.Row(Math.Clamp((int)Math.Floor(y), 0, image.Height - 1));
        var i = Math.Clamp((int)Math.Floor(x), 0, image.Width - 1) * 3;
        return (row[i], row[i + 1], row[i + 2]);
    }

    /// <summary>Pixels darker than light grey in a band: anti-aliased text and lines.</summary>
    public static int Dark(RgbImage image, int x0, int y0, int x1, int y1)
    {
        var count = 0;
        for (var y = y0; y < y1; y++)
        {
            for (var x = x0; x < x1; x++)
            {
                var (r, g, b) = At(image, x, y);
                count += r + g + b < 3 * 160 ? 1 : 0;
            }
        }

        return count;
    }

    /// <summary>Pixels that differ between two renders of the same size.</summary>
    public static int Differ(RgbImage a, RgbImage b, int x0, int y0, int x1, int y1)
    {
        var count = 0;
        for (var y = y0; y < y1; y++)
        {
            for (var x = x0; x < x1; x++)
            {
                count += At(a, x, y) != At(b, x, y) ? 1 : 0;
            }
        }

        return count;
    }

    /// <summary>Whether a pixel within <paramref name="radius"/> of (x, y) is close to <paramref name="color"/>.</summary>
    public static bool Near(RgbImage image, Pixel at, Color color, int radius = 3, int tolerance = 40)
    {
        for (var dy = -radius; dy <= radius; dy++)
        {
            for (var dx = -radius; dx <= radius; dx++)
            {
                var (r, g, b) = At(image, at.X + dx, at.Y + dy);
                if (Math.Abs(r - color.R) + Math.Abs(g - color.G) + Math.Abs(b - color.B) <= tolerance)
                {
                    return true;
                }
            }
        }

        return false;
    }
}

public class CurvesChartTests
{
    private static EpochResult Epoch(int e, double trainLoss, double trainAcc, double valLoss = double.NaN, double valAcc = double.NaN) =>
        new(e, trainLoss, trainAcc, valLoss, valAcc, 0.01, 1);

    /// <summary>Ten epochs: a zig-zag falling train loss, validation loss well above it.</summary>
    private static List<EpochResult> KnownHistory() =>
        Enumerable.Range(1, 10).Select(e => Epoch(e, 2.0 / e + (e % 2 == 0 ? 0.3 : 0), 0.1 + (0.08 * e), 3 + (0.1 * e), 0.05 + (0.02 * e))).ToList();

    [Fact]
    public void SaveCurves_KnownHistory_PngOfTheChartSizeWrittenAtomically()
    {
        using var dir = new TempDir();
        var path = dir.File("curves.png");
        TrainingCharts.SaveCurves(path, KnownHistory());
        Assert.False(File.Exists(path + ".tmp"));
        using var image = ImageDecoder.DecodeFile(path);
        Assert.Equal((CurvesChart.Width, CurvesChart.Height), (image.Width, image.Height));
    }

    [Fact]
    public void Curves_KnownHistory_EmaVerticesAndValidationDrawnWhereTheAxesMapThem()
    {
        var history = KnownHistory();
        var panels = CurvesChart.Build(history);
        using var image = ChartRaster.Render(panels, CurvesChart.Width / 2, CurvesChart.Height);
        var smooth = ClassificationMetrics.Smooth(history.Select(h => h.TrainLoss).ToArray(), 0.8);
        for (var i = 0; i < history.Count; i++)
        {
            var at = panels[0].GetPixel(new Coordinates(history[i].Epoch, smooth[i]));
            Assert.True(ChartPixels.Near(image, at, CurvesChart.Train), $"no train EMA colour near epoch {i + 1} at {at}");
        }

        var validation = panels[0].GetPixel(new Coordinates(1, CurvesChart.SmoothSkippingGaps(history.Select(h => h.ValidationLoss).ToArray())[0]));
        Assert.True(ChartPixels.Near(image, validation, CurvesChart.Validation));

        // The accuracy panel is the right half: its points lie there.
        var accuracy = panels[1].GetPixel(new Coordinates(10, ClassificationMetrics.Smooth(history.Select(h => h.TrainAccuracy).ToArray(), 0.8)[9]));
        Assert.True(ChartPixels.Near(image, new Pixel(accuracy.X + (CurvesChart.Width / 2), accuracy.Y), CurvesChart.Train));
    }

    [Fact]
    public void Curves_Labels_TextDrawnInTitleAxisAndLegendAreas()
    {
        var history = KnownHistory();
        using var labelled = TrainingCharts.RenderCurves(history, labels: true);
        using var bare = TrainingCharts.RenderCurves(history, labels: false);
        Assert.Equal((labelled.Width, labelled.Height), (bare.Width, bare.Height));

        // Title band of each panel: the titles' glyphs are dark anti-aliased pixels that the bare render lacks.
        for (var panel = 0; panel < 2; panel++)
        {
            var x0 = panel * CurvesChart.Width / 2;
            Assert.True(ChartPixels.Dark(labelled, x0, 0, x0 + (CurvesChart.Width / 2), 40) > 80, $"no title text in panel {panel}");
            Assert.Equal(0, ChartPixels.Dark(bare, x0, 0, x0 + (CurvesChart.Width / 2), 25));
        }

        // Bottom band: the x-axis title "epoch" and the tick labels.
        Assert.True(ChartPixels.Differ(labelled, bare, 0, CurvesChart.Height - 60, CurvesChart.Width, CurvesChart.Height) > 200);
    }

    [Fact]
    public void Curves_KnownHistory_PlotAreaNotBlank()
    {
        using var image = TrainingCharts.RenderCurves(KnownHistory());
        Assert.True(ChartPixels.Dark(image, 80, 50, (CurvesChart.Width / 2) - 20, CurvesChart.Height - 60) > 500);
        Assert.True(ChartPixels.Dark(image, (CurvesChart.Width / 2) + 80, 50, CurvesChart.Width - 20, CurvesChart.Height - 60) > 500);
    }

    [Fact]
    public void Curves_NaNEpoch_LeavesAGapAndSmoothingSkipsIt()
    {
        var history = new List<EpochResult> { Epoch(1, 1.0, 0.2), Epoch(2, 0.8, 0.3), Epoch(3, double.NaN, double.NaN), Epoch(4, 0.6, 0.5), Epoch(5, 0.5, 0.6) };
        var panels = CurvesChart.Build(history);
        using var image = ChartRaster.Render(panels, CurvesChart.Width / 2, CurvesChart.Height);
        var smooth = CurvesChart.SmoothSkippingGaps(history.Select(h => h.TrainLoss).ToArray());
        Assert.True(double.IsNaN(smooth[2]));
        Assert.Equal(ClassificationMetrics.Smooth([1.0, 0.8, 0.6], 0.8)[2], smooth[3], 12);
        var gap = panels[0].GetPixel(new Coordinates(3, 0.7));
        var top = panels[0].GetPixel(new Coordinates(3, 1.05));
        var bottom = panels[0].GetPixel(new Coordinates(3, 0.45));
        for (var y = (int)top.Y; y <= (int)bottom.Y; y++)
        {
            Assert.False(ChartPixels.Near(image, new Pixel(gap.X, y), CurvesChart.Train, radius: 0, tolerance: 60), $"train colour in the gap at y {y}");
        }

        Assert.True(ChartPixels.Near(image, panels[0].GetPixel(new Coordinates(4, smooth[3])), CurvesChart.Train));
    }

    [Fact]
    public void Curves_OneEpochWithoutValidation_DotAndNoValidationColour()
    {
        var history = new List<EpochResult> { Epoch(1, 0.7, 0.5) };
        var panels = CurvesChart.Build(history);
        using var image = ChartRaster.Render(panels, CurvesChart.Width / 2, CurvesChart.Height);
        Assert.True(ChartPixels.Near(image, panels[0].GetPixel(new Coordinates(1, 0.7)), CurvesChart.Train));
        for (var y = 0; y < image.Height; y += 2)
        {
            for (var x = 0; x < image.Width; x += 2)
            {
                Assert.False(ChartPixels.Near(image, new Pixel(x, y), CurvesChart.Validation, radius: 0, tolerance: 30), $"validation colour at ({x}, {y})");
            }
        }
    }

    [Fact]
    public void Curves_NoEpochs_StillAnImage()
    {
        using var image = TrainingCharts.RenderCurves([]);
        Assert.Equal((CurvesChart.Width, CurvesChart.Height), (image.Width, image.Height));
    }
}

public class ConfusionChartTests
{
    [Fact]
    public void Confusion_CellColours_DarkenAsTheCountGrows()
    {
        string[] labels = ["cat", "dog", "a-very-long-class-name-indeed"];
        var counts = new long[,] { { 9, 1, 0 }, { 2, 7, 4 }, { 3, 5, 8 } };
        using var dir = new TempDir();
        var path = dir.File("confusion.png");
        var metrics = ClassificationMetrics.FromPredictions(Expand(counts, p: true), Expand(counts, p: false), labels);
        TrainingCharts.SaveConfusion(path, metrics);
        Assert.False(File.Exists(path + ".tmp"));
        using var image = ImageDecoder.DecodeFile(path);
        var (left, top, cell, width, height) = ConfusionChart.Layout(labels);
        Assert.Equal((width, height), (image.Width, image.Height));
        var darkness = new SortedDictionary<long, int>();
        for (var r = 0; r < 3; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                // A corner pixel: the count text sits in the middle.
                var (red, green, blue) = ChartPixels.At(image, left + (c * cell) + 3, top + (r * cell) + 3);
                darkness[counts[r, c]] = 765 - (red + green + blue);
                var (er, eg, eb) = ConfusionChart.CellColor(counts[r, c], 9);
                Assert.True(Math.Abs(red - er) + Math.Abs(green - eg) + Math.Abs(blue - eb) <= 6, $"cell ({r}, {c}) is ({red}, {green}, {blue}), expected ({er}, {eg}, {eb})");
            }
        }

        var ordered = darkness.Values.ToArray();
        for (var k = 1; k < ordered.Length; k++)
        {
            Assert.True(ordered[k] > ordered[k - 1], $"darkness {string.Join(", ", ordered)} does not increase with the count");
        }

        Assert.Equal("a-very-long-class-..", ConfusionChart.Truncate(labels[2]));
    }

    [Fact]
    public void Confusion_Labels_CountsClassNamesAndColourBarDrawn()
    {
        string[] labels = ["cat", "dog", "bird"];
        var counts = new long[,] { { 9, 1, 0 }, { 2, 7, 4 }, { 3, 5, 8 } };
        using var labelled = TrainingCharts.RenderConfusion(labels, counts, text: true);
        using var bare = TrainingCharts.RenderConfusion(labels, counts, text: false);
        var (left, top, cell, width, height) = ConfusionChart.Layout(labels);
        var n = labels.Length;

        // Counts in the cells, names left of the rows and below the columns, title above.
        Assert.True(ChartPixels.Differ(labelled, bare, left, top, left + (n * cell), top + (n * cell)) > 100, "no counts in the cells");
        Assert.True(ChartPixels.Dark(labelled, 0, top, left - 2, top + (n * cell)) > 100, "no class names left of the matrix");
        Assert.True(ChartPixels.Dark(labelled, left, top + (n * cell) + 4, left + (n * cell), height) > 100, "no class names under the matrix");
        Assert.True(ChartPixels.Dark(labelled, 0, 0, width, top - 4) > 50, "no title");

        // The colour bar: dark blue at its top, light at its bottom, right of the matrix.
        var barColumn = Enumerable.Range(left + (n * cell) + 5, width - left - (n * cell) - 5)
            .First(x => ChartPixels.At(bare, x, top + 5) is var (r, g, b) && b > r + 60);
        var (tr, tg, tb) = ChartPixels.At(bare, barColumn + 3, top + 3);
        var (br, bg, bb) = ChartPixels.At(bare, barColumn + 3, top + (n * cell) - 3);
        Assert.True(tr + tg + tb < br + bg + bb - 200, "the colour bar does not run from dark to light");
    }

    [Fact]
    public void Confusion_ShapeMismatch_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingCharts.RenderConfusion(["a", "b"], new long[3, 3]));
        Assert.StartsWith("a 3×3 confusion matrix does not match 2 labels.", e.Message);
    }

    [Fact]
    public void Confusion_ManyClasses_SmallCellsStillRender()
    {
        var labels = Enumerable.Range(0, 150).Select(i => $"class{i}").ToArray();
        var counts = new long[150, 150];
        for (var i = 0; i < 150; i++)
        {
            counts[i, i] = i;
        }

        using var image = TrainingCharts.RenderConfusion(labels, counts);
        var (left, top, cell, width, height) = ConfusionChart.Layout(labels);
        Assert.Equal((width, height), (image.Width, image.Height));
        var (r, g, b) = ChartPixels.At(image, left + (149 * cell) + (cell / 2), top + (149 * cell) + (cell / 2));
        var (er, eg, eb) = ConfusionChart.CellColor(149, 149);
        Assert.True(Math.Abs(r - er) + Math.Abs(g - eg) + Math.Abs(b - eb) <= 6);
    }

    private static int[] Expand(long[,] counts, bool p)
    {
        var list = new List<int>();
        for (var r = 0; r < counts.GetLength(0); r++)
        {
            for (var c = 0; c < counts.GetLength(1); c++)
            {
                list.AddRange(Enumerable.Repeat(p ? c : r, (int)counts[r, c]));
            }
        }

        return [.. list];
    }
}

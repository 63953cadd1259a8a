using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Reports;
using OnnxCnn.Training.Reports.Internal;

namespace OnnxCnn.Training.Tests;

public class NiceTicksTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.312, 2.87)]
    [InlineData(0.93, 0.97)]
    [InlineData(-3.2, 7.9)]
    [InlineData(1, 100)]
    [InlineData(12345, 98765)]
    [InlineData(1e-5, 3e-5)]
    [InlineData(0.6931, 0.6932)]
    public void Cover_AnyRange_NiceStepsCoveringTheData(double min, double max)
    {
        var ticks = NiceTicks.Cover(min, max);
        var mantissa = ticks.Step / Math.Pow(10, Math.Floor(Math.Log10(ticks.Step)));
        Assert.Contains(Math.Round(mantissa, 9), new[] { 1.0, 2.0, 5.0 });
        // Covering up to floating-point rounding of the tick values.
        var slack = ticks.Step * 1e-6;
        Assert.True(ticks.Min <= min + slack && ticks.Max >= max - slack, $"[{ticks.Min}, {ticks.Max}] does not cover [{min}, {max}]");
        var values = ticks.Values.ToArray();
        Assert.InRange(values.Length, 3, 12);
        foreach (var v in values)
        {
            Assert.Equal(Math.Round(v / ticks.Step), v / ticks.Step, 6);
        }

        // No empty tick interval at either end.
        Assert.True(values[1] > min && values[^2] < max);
    }

    [Fact]
    public void Cover_ZeroToOne_StepsOfTwoTenthsWithOneDecimal()
    {
        var ticks = NiceTicks.Cover(0, 1);
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], ticks.Values.Select(ticks.Format));
    }

    [Fact]
    public void Cover_ConstantSeries_AxisAroundTheValue()
    {
        var ticks = NiceTicks.Cover(0.5, 0.5);
        Assert.True(ticks.Min < 0.5 && ticks.Max > 0.5);
        var zero = NiceTicks.Cover(0, 0);
        Assert.True(zero.Min < 0 && zero.Max > 0);
        Assert.Equal("0.0", zero.Format(-1e-17));
    }

    [Fact]
    public void Cover_IntegerAxis_StepAtLeastOne()
    {
        var ticks = NiceTicks.Cover(1, 3, 8, integer: true);
        Assert.Equal(1, ticks.Step);
        Assert.Equal(["1", "2", "3"], ticks.Values.Select(ticks.Format));
        Assert.Equal([0.0, 1, 2], NiceTicks.Cover(1, 1, 8, integer: true).Values);
    }

    [Fact]
    public void Cover_NonFiniteInput_FallsBackToUnitRange()
    {
        var ticks = NiceTicks.Cover(double.NaN, double.PositiveInfinity);
        Assert.Equal(0, ticks.Min);
        Assert.Equal(1, ticks.Max);
    }
}

public class BitmapFontTests
{
    // The glyphs written out by hand: a regression in the font table or the text renderer shows here.
    private static readonly Dictionary<char, string[]> Expected = new()
    {
        ['A'] = [".###.", "#...#", "#...#", "#...#", "#####", "#...#", "#...#"],
        ['1'] = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['e'] = [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
        ['%'] = ["##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"],
    };

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Text_KnownString_MatchesTheGlyphBitmaps(int scale)
    {
        const string text = "A1e%";
        using var image = RgbImage.Create(60 * scale, 12 * scale);
        var canvas = new Canvas(image);
        canvas.Clear(Rgb.White);
        canvas.Text(2, 3, text, Rgb.Black, scale);
        Assert.Equal(((text.Length * 6) - 1) * scale, BitmapFont.Measure(text, scale));
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var (fx, fy) = ((x - 2) / scale, (y - 3) / scale);
                var inside = x >= 2 && y >= 3 && fy < 7 && fx < text.Length * 6 && fx % 6 < 5;
                var set = inside && Expected[text[fx / 6]][fy][fx % 6] == '#';
                Assert.True(canvas[x, y] == (set ? Rgb.Black : Rgb.White), $"pixel ({x}, {y}) at scale {scale}");
            }
        }
    }

    [Fact]
    public void TextVertical_ReadsBottomToTop()
    {
        using var image = RgbImage.Create(20, 20);
        var canvas = new Canvas(image);
        canvas.Clear(Rgb.White);
        canvas.TextVertical(5, 15, "1", Rgb.Black, 1);
        // Font row fy becomes column 5 + fy; font column fx becomes row 15 − 1 − fx.
        for (var fy = 0; fy < 7; fy++)
        {
            for (var fx = 0; fx < 5; fx++)
            {
                Assert.Equal(Expected['1'][fy][fx] == '#', canvas[5 + fy, 14 - fx] == Rgb.Black);
            }
        }
    }

    [Fact]
    public void Text_OutsideAscii_DrawsQuestionMark()
    {
        for (var y = 0; y < 7; y++)
        {
            for (var x = 0; x < 5; x++)
            {
                Assert.Equal(BitmapFont.IsSet('?', x, y), BitmapFont.IsSet('é', x, y));
            }
        }
    }
}

public class CurvesChartTests
{
    private static EpochResult Epoch(int e, double trainLoss, double trainAcc, double valLoss = double.NaN, double valAcc = double.NaN) =>
        new(e, trainLoss, trainAcc, valLoss, valAcc, 0.01, 1);

    /// <summary>Ten epochs: a zig-zag falling train loss, validation loss well above it.</summary>
    private static List<EpochResult> KnownHistory() =>
        Enumerable.Range(1, 10).Select(e => Epoch(e, 2.0 / e + (e % 2 == 0 ? 0.3 : 0), 0.1 + (0.08 * e), 3 + (0.1 * e), 0.05 + (0.02 * e))).ToList();

    private static RgbImage SaveAndDecode(TempDir dir, IReadOnlyList<EpochResult> history)
    {
        var path = dir.File("curves.png");
        TrainingCharts.SaveCurves(path, history);
        Assert.False(File.Exists(path + ".tmp"));
        return ImageDecoder.DecodeFile(path);
    }

    private static Rgb At(RgbImage image, double x, double y)
    {
        var row = image.Row((int)Math.Floor(y));
        var i = (int)Math.Floor(x) * 3;
        return new Rgb(row[i], row[i + 1], row[i + 2]);
    }

    [Fact]
    public void Curves_KnownHistory_TrainLossPixelsAtTheExpectedPositions()
    {
        using var dir = new TempDir();
        var history = KnownHistory();
        using var image = SaveAndDecode(dir, history);
        Assert.Equal((CurvesChart.Width, CurvesChart.Height), (image.Width, image.Height));
        var (loss, _) = CurvesChart.Layout(history);
        var raw = history.Select(h => h.TrainLoss).ToArray();
        var smooth = ClassificationMetrics.Smooth(raw, 0.8);
        for (var i = 0; i < history.Count; i++)
        {
            var x = loss.MapX(history[i].Epoch);
            // The bold EMA line is exactly its colour at each vertex, and in that pixel column the
            // colour appears only within the line's half width of the vertex.
            Assert.Equal(CurvesChart.Train, At(image, x, loss.MapY(smooth[i])));
            for (var y = loss.Top; y < loss.Top + loss.Height; y++)
            {
                if (At(image, x, y) == CurvesChart.Train)
                {
                    Assert.InRange(y, loss.MapY(smooth[i]) - 3, loss.MapY(smooth[i]) + 3);
                }
            }

            // The thin raw line shows where it is clear of the bold one: a 2 px line fully covers at
            // least one pixel next to each vertex.
            if (Math.Abs(loss.MapY(raw[i]) - loss.MapY(smooth[i])) > 5)
            {
                var near = from dx in new[] { -1, 0, 1 } from dy in new[] { -1, 0, 1 } select At(image, x + dx, loss.MapY(raw[i]) + dy);
                Assert.Contains(CurvesChart.TrainRaw, near);
            }
        }

        // Validation loss is drawn too, and the area far from every line is background.
        Assert.Equal(CurvesChart.Validation, At(image, loss.MapX(1), loss.MapY(history[0].ValidationLoss)));
        Assert.Equal(Rgb.White, At(image, loss.MapX(5.5) + 3, loss.MapY(2.6)));
    }

    [Fact]
    public void Curves_OneEpoch_DrawsDotsAtThePoints()
    {
        using var dir = new TempDir();
        var history = new List<EpochResult> { Epoch(1, 0.7, 0.5, 0.9, 0.4) };
        using var image = SaveAndDecode(dir, history);
        var (loss, accuracy) = CurvesChart.Layout(history);
        Assert.Equal(CurvesChart.Train, At(image, loss.MapX(1), loss.MapY(0.7)));
        Assert.Equal(CurvesChart.Validation, At(image, loss.MapX(1), loss.MapY(0.9)));
        Assert.Equal(CurvesChart.Train, At(image, accuracy.MapX(1), accuracy.MapY(0.5)));
        Assert.Equal(CurvesChart.Validation, At(image, accuracy.MapX(1), accuracy.MapY(0.4)));
    }

    [Fact]
    public void Curves_ConstantSeriesWithoutValidation_LineAtTheValueAndNoValidationColour()
    {
        using var dir = new TempDir();
        var history = Enumerable.Range(1, 4).Select(e => Epoch(e, 0.5, 1.0)).ToList();
        using var image = SaveAndDecode(dir, history);
        var (loss, accuracy) = CurvesChart.Layout(history);
        Assert.True(loss.YTicks.Min < 0.5 && loss.YTicks.Max > 0.5);
        for (var x = loss.MapX(1); x <= loss.MapX(4); x += 7)
        {
            Assert.Equal(CurvesChart.Train, At(image, x, loss.MapY(0.5)));
            Assert.Equal(CurvesChart.Train, At(image, x, accuracy.MapY(1.0)));
        }

        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var c = At(image, x, y);
                Assert.False(c == CurvesChart.Validation || c == CurvesChart.ValidationRaw, $"validation colour at ({x}, {y})");
            }
        }
    }

    [Fact]
    public void Curves_NaNEpoch_LeavesAGapAndSmoothingSkipsIt()
    {
        using var dir = new TempDir();
        var history = new List<EpochResult> { Epoch(1, 1.0, 0.2), Epoch(2, 0.8, 0.3), Epoch(3, double.NaN, double.NaN), Epoch(4, 0.6, 0.5), Epoch(5, 0.5, 0.6) };
        using var image = SaveAndDecode(dir, history);
        var (loss, _) = CurvesChart.Layout(history);
        var x = loss.MapX(3);
        for (var y = loss.Top; y < loss.Top + loss.Height; y++)
        {
            var c = At(image, x, y);
            Assert.False(c == CurvesChart.Train || c == CurvesChart.TrainRaw, $"train colour in the gap at y {y}");
        }

        var smooth = CurvesChart.SmoothSkippingGaps(history.Select(h => h.TrainLoss).ToArray());
        Assert.True(double.IsNaN(smooth[2]));
        Assert.Equal(ClassificationMetrics.Smooth([1.0, 0.8, 0.6], 0.8)[2], smooth[3], 12);
        Assert.Equal(CurvesChart.Train, At(image, loss.MapX(4), loss.MapY(smooth[3])));
    }

    [Fact]
    public void Curves_NoEpochs_StillAnImage()
    {
        using var image = TrainingCharts.RenderCurves([]);
        Assert.Equal(CurvesChart.Width, image.Width);
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
        using var image = ImageDecoder.DecodeFile(path);
        var (left, top, cell, width, height) = ConfusionChart.Layout(labels);
        Assert.Equal((width, height), (image.Width, image.Height));
        var darkness = new SortedDictionary<long, int>();
        for (var r = 0; r < 3; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                // A corner pixel: the count text sits in the middle.
                var row = image.Row(top + (r * cell) + 2);
                var i = (left + (c * cell) + 2) * 3;
                darkness[counts[r, c]] = 765 - (row[i] + row[i + 1] + row[i + 2]);
                Assert.Equal(ConfusionChart.CellColor(counts[r, c], 9), new Rgb(row[i], row[i + 1], row[i + 2]));
            }
        }

        var ordered = darkness.Values.ToArray();
        for (var k = 1; k < ordered.Length; k++)
        {
            Assert.True(ordered[k] > ordered[k - 1], $"darkness {string.Join(", ", ordered)} does not increase with the count");
        }

        Assert.Equal("a-very-long-..", ConfusionChart.Truncate(labels[2]));
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
        var (left, top, cell, _, _) = ConfusionChart.Layout(labels);
        Assert.Equal(6, cell);
        var canvas = new Canvas(image);
        Assert.Equal(ConfusionChart.CellColor(149, 149), canvas[left + (149 * cell) + 1, top + (149 * cell) + 1]);
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

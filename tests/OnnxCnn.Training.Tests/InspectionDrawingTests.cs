using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Training.Tests;

/// <summary>Activation grids and heat-map overlays: layout, colours, title text.</summary>
public class InspectionDrawingTests
{
    private static readonly string Dir = RepoPaths.Fixture("inspect");

    [Theory]
    [InlineData(16, 8, 8, 8, 2, 8, 4)]
    [InlineData(5, 16, 16, 16, 1, 5, 2)]
    [InlineData(20, 112, 112, 16, 2, 16, 1)]
    [InlineData(64, 7, 7, 16, 4, 16, 5)]
    public void Layout_ChannelsAndPerRow_GivesRowsColumnsAndScale(int channels, int h, int w, int perRow, int rows, int columns, int scale)
    {
        var layout = ActivationGrid.Layout(channels, h, w, perRow);
        Assert.Equal((rows, columns, scale), (layout.Rows, layout.Columns, layout.Scale));
        Assert.Equal((2 * GridLayout.Margin) + (columns * w * scale) + ((columns - 1) * GridLayout.Gap), layout.Width);
        Assert.Equal((2 * GridLayout.Margin) + (rows * h * scale) + ((rows - 1) * GridLayout.Gap), layout.Height);
        Assert.Equal(0, layout.TitleHeight);
    }

    [Fact]
    public void Normalize_KerasRule_MeanStdTimes64Plus128Clipped()
    {
        float[] values = [1, 2, 3, 4, 100];
        var levels = new byte[values.Length];
        ActivationGrid.Normalize(values, levels);
        var mean = values.Average();
        var std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        var expected = values.Select(v => (byte)Math.Clamp(Math.Round(((v - mean) / std * 64) + 128), 0, 255)).ToArray();
        Assert.Equal(expected, levels);
        Assert.Equal(255, levels[^1]);
    }

    [Fact]
    public void Normalize_ConstantChannel_IsMidGreyNotNaN()
    {
        var levels = new byte[4];
        ActivationGrid.Normalize([0.5f, 0.5f, 0.5f, 0.5f], levels);
        Assert.All(levels, l => Assert.Equal(128, l));
    }

    [Fact]
    public void Colors_ViridisAndJetEnds_AreMatplotlibs()
    {
        Assert.Equal(((byte)68, (byte)1, (byte)84), HeatmapOverlay.Color(ColorMap.Viridis, 0));
        Assert.Equal(((byte)253, (byte)231, (byte)37), HeatmapOverlay.Color(ColorMap.Viridis, 1));
        Assert.Equal(((byte)0, (byte)0, (byte)128), HeatmapOverlay.Color(ColorMap.Jet, 0));
        Assert.Equal(((byte)128, (byte)0, (byte)0), HeatmapOverlay.Color(ColorMap.Jet, 1));
    }

    [Fact]
    public void Draw_FixtureLayer_CellsHoldViridisOfNormalisedChannelsInRowMajorOrder()
    {
        var activation = Relu2();
        using var png = ImageDecoder.Decode(ActivationGrid.Draw(activation, perRow: 6), "grid.png");
        var layout = ActivationGrid.Layout(16, 16, 16, 6, ActivationGrid.TitleOf(activation));
        Assert.Equal((3, 6, 2), (layout.Rows, layout.Columns, layout.Scale));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        var levels = new byte[16 * 16];
        for (var c = 0; c < 16; c++)
        {
            ActivationGrid.Normalize(activation.Channel(c), levels);
            var (x0, y0) = layout.CellOrigin(c);
            foreach (var (y, x) in new[] { (0, 0), (5, 11), (15, 15), (9, 2) })
            {
                var expected = HeatmapOverlay.Color(ColorMap.Viridis, levels[(y * 16) + x] / 255f);
                Assert.Equal(expected, Pixel(png, x0 + (x * 2) + 1, y0 + (y * 2) + 1));
            }
        }

        // The gap between cells and the empty places after the last channel (16 of 18) are background.
        var (gx, gy) = layout.CellOrigin(1);
        Assert.Equal(ActivationGrid.Background, Pixel(png, gx - 1, gy + 5));
        var (ex, ey) = layout.CellOrigin(17);
        Assert.Equal(ActivationGrid.Background, Pixel(png, ex + 10, ey + 10));
    }

    [Fact]
    public void Draw_Title_NameTensorAndShapeAreRenderedAsText()
    {
        var activation = Relu2();
        var title = ActivationGrid.TitleOf(activation);
        Assert.Equal("/relu2/Relu → /relu2/Relu_output_0  1×16×16×16", title);
        using var png = ImageDecoder.Decode(ActivationGrid.Draw(activation, perRow: 16), "grid.png");
        var layout = ActivationGrid.Layout(16, 16, 16, 16, title);
        Assert.True(layout.TitleHeight > 0, "no font was found to draw the title with");

        // Ink (light pixels) in the title band, spanning about the width the font measures for the text.
        var inkColumns = Enumerable.Range(0, png.Width).Where(x => Enumerable.Range(0, layout.TitleHeight).Any(y => Pixel(png, x, y).R > 150)).ToList();
        Assert.NotEmpty(inkColumns);
        var titleWidth = layout.Width - (4 * GridLayout.Margin);
        Assert.InRange(inkColumns[0], GridLayout.Margin, (2 * GridLayout.Margin) + 4);
        Assert.InRange(inkColumns[^1] - inkColumns[0], titleWidth * 0.6, titleWidth * 1.05);

        // A short title inks a narrower band: the text itself is drawn, not a bar.
        var shortOne = activation with { Layer = new InspectedLayer("c", "c", "Conv") };
        using var shortPng = ImageDecoder.Decode(ActivationGrid.Draw(shortOne, perRow: 16), "grid.png");
        var shortInk = Enumerable.Range(0, shortPng.Width).Where(x => Enumerable.Range(0, layout.TitleHeight).Any(y => Pixel(shortPng, x, y).R > 150)).ToList();
        Assert.InRange(shortInk[^1] - shortInk[0], 1, (inkColumns[^1] - inkColumns[0]) / 2);
    }

    [Fact]
    public void Save_ExistingFile_IsReplacedWholeAndNoTemporaryRemains()
    {
        using var dir = new TempDir();
        var path = dir.File("grid.png");
        File.WriteAllText(path, "old");
        ActivationGrid.Save(Relu2(), path);
        using var png = ImageDecoder.DecodeFile(path);
        Assert.True(png.Width > 100);
        Assert.Equal(["grid.png"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Overlay_AlphaZeroAndOne_AreThePictureAndTheColourMap()
    {
        using var picture = ImageDecoder.DecodeFile(Path.Combine(Dir, "image.png"));
        var cam = new GradCamResult(new InspectedLayer("l", "l", "Relu"), 0, 1, [1], 2, 2, [0, 1, 2, 3], [1]);
        using var none = HeatmapOverlay.Draw(picture, cam, ColorMap.Jet, 0);
        Assert.Equal(picture.Pixels.ToArray(), none.Pixels.ToArray());
        using var full = HeatmapOverlay.Draw(picture, cam, ColorMap.Jet, 1);
        Assert.Equal(HeatmapOverlay.Color(ColorMap.Jet, 0), Pixel(full, 0, 0));
        Assert.Equal(HeatmapOverlay.Color(ColorMap.Jet, 1), Pixel(full, 31, 31));
        Assert.Equal((picture.Width, picture.Height), (full.Width, full.Height));
    }

    [Fact]
    public void Upsample_TwoByTwo_MatchesHalfPixelBilinear()
    {
        // PyTorch: interpolate([[0,1],[2,3]], size=4, bilinear, align_corners=False) rows are 0, .25, .75, 1 (×1) + 0, .5, 1.5, 2 (×2).
        var up = HeatmapOverlay.Upsample([0, 1, 2, 3], 2, 2, 4, 4);
        Assert.Equal([0f, 0.25f, 0.75f, 1f, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2f, 2.25f, 2.75f, 3f], up);
    }

    private static LayerActivation Relu2()
    {
        var model = OnnxModel.Load(Path.Combine(Dir, "model.onnx"));
        using var input = Npy.Read(Path.Combine(Dir, "input.npy"));
        return Activations.Compute(model, input.As<float>(), Activations.FindLayers(model, ["/relu2/Relu"]))[0];
    }

    private static (byte R, byte G, byte B) Pixel(RgbImage image, int x, int y)
    {
        var row = image.Row(y);
        return (row[x * 3], row[(x * 3) + 1], row[(x * 3) + 2]);
    }
}

namespace OnnxCnn.Preprocess.Tests;

public class AugmentTests
{
    private static RgbImage Pattern(int width, int height)
    {
        var image = RgbImage.Create(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var p = image.Row(y).Slice(x * 3, 3);
                p[0] = (byte)(x * 7);
                p[1] = (byte)(y * 11);
                p[2] = (byte)((x * 13) ^ (y * 5));
            }
        }

        return image;
    }

    private static byte[] Pixel(RgbImage image, int x, int y) => image.Row(y).Slice(x * 3, 3).ToArray();

    private static readonly PreprocessSpec NoResize = new();

    private static readonly (int, double)[] NoColour = [];

    [Fact]
    public void HorizontalFlip_IsExactMirror()
    {
        using var image = Pattern(9, 6);
        var augmenter = new Augmenter(AugmentSpec.Parse("hflip"), 0);
        using var flipped = augmenter.Apply(image, NoResize, AugmentDraw.Identity with { FlipHorizontal = true });
        for (var y = 0; y < 6; y++)
        {
            for (var x = 0; x < 9; x++)
            {
                Assert.Equal(Pixel(image, 8 - x, y), Pixel(flipped, x, y));
            }
        }
    }

    [Fact]
    public void VerticalFlip_IsExactMirror()
    {
        using var image = Pattern(5, 8);
        var augmenter = new Augmenter(AugmentSpec.Parse("vflip"), 0);
        using var flipped = augmenter.Apply(image, NoResize, AugmentDraw.Identity with { FlipVertical = true });
        Assert.Equal(Pixel(image, 3, 7), Pixel(flipped, 3, 0));
        Assert.Equal(Pixel(image, 0, 0), Pixel(flipped, 0, 7));
    }

    [Fact]
    public void Rotation90_OnSquareImage_IsExactTranspose()
    {
        using var image = Pattern(8, 8);
        var augmenter = new Augmenter(AugmentSpec.Parse("rotation=90"), 0);
        using var rotated = augmenter.Apply(image, NoResize, AugmentDraw.Identity with { Theta = 90 });
        // Keras' matrix for +90°: output (r, c) reads source (r', c') = (o + (c − o)·(−1)… ) — check with the matrix itself.
        var m = Augmenter.KerasMatrix(8, 8, AugmentDraw.Identity with { Theta = 90 });
        for (var r = 0; r < 8; r++)
        {
            for (var c = 0; c < 8; c++)
            {
                var sr = (int)Math.Round((m[0] * r) + (m[1] * c) + m[2]);
                var sc = (int)Math.Round((m[3] * r) + (m[4] * c) + m[5]);
                Assert.Equal(Pixel(image, sc, sr), Pixel(rotated, c, r));
            }
        }

        // And it is a true quarter turn: output (row 0, col 0) reads source (row 7, col 0).
        Assert.Equal(Pixel(image, 0, 7), Pixel(rotated, 0, 0));
        Assert.Equal(Pixel(image, 7, 7), Pixel(rotated, 0, 7));
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(0, -3)]
    [InlineData(1, 2)]
    public void Shift_WholePixels_IsExact_WithConstantFill(int rows, int cols)
    {
        using var image = Pattern(10, 7);
        var augmenter = new Augmenter(AugmentSpec.Parse("shift=0.5,fill=constant:9"), 0);
        using var shifted = augmenter.Apply(image, NoResize, AugmentDraw.Identity with { Tx = rows, Ty = cols });
        for (var y = 0; y < 7; y++)
        {
            for (var x = 0; x < 10; x++)
            {
                var sy = y + rows;
                var sx = x + cols;
                var expected = sy is >= 0 and < 7 && sx is >= 0 and < 10 ? Pixel(image, sx, sy) : [9, 9, 9];
                Assert.Equal(expected, Pixel(shifted, x, y));
            }
        }
    }

    [Fact]
    public void FillModes_NearestReflectWrap_FollowTheirDefinitions()
    {
        using var image = Pattern(6, 4);
        foreach (var (mode, expectedColumn) in new[] { ("nearest", 0), ("reflect", 1), ("wrap", 4) })
        {
            var augmenter = new Augmenter(AugmentSpec.Parse("shift=0.5,fill=" + mode), 0);
            // Shift right by 2: output column 0 reads source column −2.
            using var shifted = augmenter.Apply(image, NoResize, AugmentDraw.Identity with { Ty = -2 });
            Assert.Equal(Pixel(image, expectedColumn, 1), Pixel(shifted, 0, 1));
        }
    }

    [Fact]
    public void Draw_SameSeedEpochIndex_SameParameters_OthersDiffer()
    {
        var augmenter = new Augmenter(AugmentSpec.Parse("rotation=30,shift=0.2,shear=10,zoom=0.2,hflip,brightness=0.3,contrast=0.3,saturation=0.3,hue=0.1,rrc=0.3:1"), 42);
        Assert.True(Same(augmenter.Draw(100, 80, 3, 17), augmenter.Draw(100, 80, 3, 17)));
        Assert.False(Same(augmenter.Draw(100, 80, 3, 17), augmenter.Draw(100, 80, 3, 18)));
        Assert.False(Same(augmenter.Draw(100, 80, 3, 17), augmenter.Draw(100, 80, 4, 17)));
        Assert.False(Same(augmenter.Draw(100, 80, 3, 17), new Augmenter(augmenter.Spec, 43).Draw(100, 80, 3, 17)));
        Assert.Equal(4, augmenter.Draw(100, 80, 3, 17).ColourOrder.Count);

        static bool Same(AugmentDraw a, AugmentDraw b) =>
            a with { ColourOrder = NoColour } == b with { ColourOrder = NoColour } && a.ColourOrder.SequenceEqual(b.ColourOrder);
    }

    [Fact]
    public void Apply_OneTwoFourThreads_ByteIdentical()
    {
        using var image = Pattern(64, 48);
        var augmenter = new Augmenter(AugmentSpec.Parse("rotation=25,shift=0.1,shear=8,zoom=0.15,hflip,fill=reflect,brightness=0.2,hue=0.05,rrc=0.5:1"), 7);
        var spec = PreprocessSpec.Parse("resize=40,crop=32");
        byte[][] Run(int threads)
        {
            var results = new byte[24][];
            Parallel.For(0, 24, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                using var output = augmenter.Apply(image, spec, epoch: 2, index: i);
                results[i] = output.Pixels.ToArray();
            });
            return results;
        }

        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(4));
        Assert.Equal(32 * 32 * 3, one[0].Length);
    }

    [Fact]
    public void Apply_NoAugmentation_EqualsResizeThenCrop_OnIntegerScale()
    {
        // A 2× downscale by bilinear sampling at pixel centres averages 2×2 blocks' centre points.
        using var image = Pattern(16, 16);
        var augmenter = new Augmenter(new AugmentSpec(), 0);
        using var output = augmenter.Apply(image, PreprocessSpec.Parse("resize=8x8"), AugmentDraw.Identity);
        Assert.Equal((8, 8), (output.Width, output.Height));
        var p = Pixel(output, 3, 2);
        var expected = (Pixel(image, 6, 4)[0] + Pixel(image, 7, 4)[0] + Pixel(image, 6, 5)[0] + Pixel(image, 7, 5)[0]) / 4.0;
        Assert.InRange(p[0], expected - 1, expected + 1);
    }

    [Theory]
    [InlineData("rotation=400", "augment spec token 'rotation=400': '400' is not a number in [0, 360].")]
    [InlineData("zoom=2:1", "augment spec token 'zoom=2:1': zoom A:B needs 0 < A ≤ B.")]
    [InlineData("fill=mirror", "augment spec token 'fill=mirror': fill is nearest, constant[:V], reflect or wrap.")]
    [InlineData("rrc=0:1", "augment spec token 'rrc=0:1': rrc is MIN:MAX with 0 < MIN ≤ MAX ≤ 1.")]
    [InlineData("blur", "augment spec token 'blur': unknown token; use rotation=, shift=, wshift=, hshift=, shear=, zoom=, hflip, vflip, fill=, brightness=, contrast=, saturation=, hue=, rrc=, erase=.")]
    public void Parse_BadToken_IsNamed(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<FormatException>(() => AugmentSpec.Parse(text)).Message);
    }

    [Fact]
    public void Erase_WithProbabilityOne_ZeroesARectangle()
    {
        var augmenter = new Augmenter(AugmentSpec.Parse("erase=1"), 3);
        var chw = Enumerable.Repeat(1f, 3 * 20 * 20).ToArray();
        augmenter.Erase(chw, 20, 20, 0, 5);
        var zeros = chw.Count(v => v == 0);
        Assert.InRange(zeros, 3 * 8, 3 * 400 * 0.34);
        Assert.Equal(0, zeros % 3);
    }
}

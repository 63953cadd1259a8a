namespace OnnxCnn.Preprocess;

/// <summary>Tiles equally sized images into one grid image (for previews).</summary>
public static class ImageGrid
{
    /// <summary>A grid with <paramref name="columns"/> columns and a <paramref name="gap"/>-pixel white border between tiles.</summary>
    public static RgbImage Compose(IReadOnlyList<RgbImage> tiles, int columns, int gap = 2)
    {
        if (tiles.Count == 0)
        {
            throw new ArgumentException("no images to put in a grid.");
        }

        var w = tiles[0].Width;
        var h = tiles[0].Height;
        if (tiles.Any(t => t.Width != w || t.Height != h))
        {
            throw new ArgumentException("grid tiles must all have the same size.");
        }

        columns = Math.Clamp(columns, 1, tiles.Count);
        var rows = (tiles.Count + columns - 1) / columns;
        var grid = RgbImage.Create((columns * w) + ((columns + 1) * gap), (rows * h) + ((rows + 1) * gap));
        grid.Pixels.Fill(255);
        for (var i = 0; i < tiles.Count; i++)
        {
            var x0 = gap + ((i % columns) * (w + gap));
            var y0 = gap + ((i / columns) * (h + gap));
            for (var y = 0; y < h; y++)
            {
                tiles[i].Row(y).CopyTo(grid.Row(y0 + y)[(x0 * 3)..]);
            }
        }

        return grid;
    }
}

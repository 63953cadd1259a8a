using System.Globalization;
using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess;

/// <summary>One sample: a file (or a CSV row) and its class index.</summary>
/// <param name="Source">The image file, or "FILE:LINE" for a CSV pixel row.</param>
/// <param name="Label">Class index into <see cref="ImageDataset.Classes"/>.</param>
public sealed record DatasetItem(string Source, int Label);

/// <summary>
/// A labelled image set: one folder per class (class names sorted → indices), a manifest
/// (<c>path,label</c> lines), or CSV pixel rows (<c>label,pixel1..pixelN</c>, grey, square).
/// </summary>
public sealed class ImageDataset
{
    /// <summary>File extensions read from class folders (case-insensitive).</summary>
    public static readonly IReadOnlySet<string> ImageExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png" };

    private readonly byte[][]? pixelRows;

    private ImageDataset(IReadOnlyList<string> classes, IReadOnlyList<DatasetItem> items, byte[][]? pixelRows = null, int side = 0)
    {
        Classes = classes;
        Items = items;
        this.pixelRows = pixelRows;
        Side = side;
    }

    /// <summary>Class names; the index is the label.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The samples, in a fixed order (classes sorted, files sorted).</summary>
    public IReadOnlyList<DatasetItem> Items { get; }

    /// <summary>Image side for CSV pixel datasets (0 for file datasets).</summary>
    public int Side { get; }

    /// <summary>True when samples are pixel rows held in memory.</summary>
    public bool IsPixelRows => pixelRows is not null;

    /// <summary>Labels of every item.</summary>
    public int[] Labels => Items.Select(i => i.Label).ToArray();

    /// <summary>Samples per class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes.Count];
        foreach (var item in Items)
        {
            counts[item.Label]++;
        }

        return counts;
    }

    /// <summary>The RGB image of a CSV pixel row (grey replicated to three channels).</summary>
    public RgbImage PixelImage(int index)
    {
        var row = pixelRows?[index] ?? throw new InvalidOperationException("this dataset's samples are files; decode them.");
        var image = RgbImage.Create(Side, Side);
        var px = image.Pixels;
        for (var i = 0; i < row.Length; i++)
        {
            px[i * 3] = px[(i * 3) + 1] = px[(i * 3) + 2] = row[i];
        }

        return image;
    }

    /// <summary>One folder per class under <paramref name="root"/>; images found recursively, sorted by path.</summary>
    public static ImageDataset FromFolder(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"dataset folder '{root}' not found.");
        }

        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0)
        {
            throw new InvalidDataException($"dataset folder '{root}' has no class subfolders (expected one folder per class).");
        }

        var items = new List<DatasetItem>();
        for (var label = 0; label < classes.Count; label++)
        {
            var files = Directory.EnumerateFiles(Path.Combine(root, classes[label]), "*", SearchOption.AllDirectories)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal);
            items.AddRange(files.Select(f => new DatasetItem(f, label)));
        }

        var empty = classes.Where((c, i) => !items.Any(it => it.Label == i)).ToList();
        if (empty.Count > 0)
        {
            throw new InvalidDataException($"dataset folder '{root}': class folder(s) {string.Join(", ", empty.Select(e => $"'{e}'"))} hold no images ({string.Join(", ", ImageExtensions)}).");
        }

        return new ImageDataset(classes, items);
    }

    /// <summary>
    /// Every image under <paramref name="root"/> (recursively, sorted by path) as one class named after the folder:
    /// for unlabelled images, e.g. a benchmark or prediction folder without class subfolders.
    /// </summary>
    public static ImageDataset FromImages(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"image folder '{root}' not found.");
        }

        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new InvalidDataException($"image folder '{root}' holds no images ({string.Join(", ", ImageExtensions)}).");
        }

        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)));
        return new ImageDataset([name], files.Select(f => new DatasetItem(f, 0)).ToList());
    }

    /// <summary>A manifest of <c>path,label</c> lines (paths relative to the manifest's folder; a header line is allowed).</summary>
    public static ImageDataset FromManifest(string manifest)
    {
        if (!File.Exists(manifest))
        {
            throw new FileNotFoundException($"manifest '{manifest}' not found.", manifest);
        }

        var baseDir = Path.GetDirectoryName(Path.GetFullPath(manifest))!;
        var rows = new List<(string Path, string Label)>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(manifest))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || (lineNumber == 1 && line.Trim().Equals("path,label", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var comma = line.LastIndexOf(',');
            if (comma <= 0 || comma == line.Length - 1)
            {
                throw new InvalidDataException($"manifest '{manifest}' line {lineNumber}: expected 'path,label', got '{line}'.");
            }

            var path = line[..comma].Trim();
            rows.Add((Path.IsPathRooted(path) ? path : Path.Combine(baseDir, path), line[(comma + 1)..].Trim()));
        }

        var classes = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        return new ImageDataset(classes, rows.Select(r => new DatasetItem(r.Path, index[r.Label])).ToList());
    }

    /// <summary>
    /// CSV pixel rows: <c>label,pixel1,…,pixelN</c> with N a square (e.g. Sign-Language-MNIST, 28×28);
    /// a header line is detected; labels are the distinct values, sorted numerically.
    /// </summary>
    public static ImageDataset FromCsvPixels(string csv)
    {
        if (!File.Exists(csv))
        {
            throw new FileNotFoundException($"CSV file '{csv}' not found.", csv);
        }

        var labels = new List<long>();
        var rows = new List<byte[]>();
        var sources = new List<string>();
        int? width = null;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(csv))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',');
            if (lineNumber == 1 && !long.TryParse(fields[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                continue; // header
            }

            width ??= fields.Length - 1;
            if (fields.Length - 1 != width)
            {
                throw new InvalidDataException($"CSV '{csv}' line {lineNumber}: {fields.Length - 1} pixel values, but earlier rows have {width}.");
            }

            if (!long.TryParse(fields[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var label))
            {
                throw new InvalidDataException($"CSV '{csv}' line {lineNumber}: label '{fields[0]}' is not an integer.");
            }

            var pixels = new byte[fields.Length - 1];
            for (var i = 1; i < fields.Length; i++)
            {
                if (!int.TryParse(fields[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v is < 0 or > 255)
                {
                    throw new InvalidDataException($"CSV '{csv}' line {lineNumber}: pixel{i} '{fields[i]}' is not an integer in 0..255.");
                }

                pixels[i - 1] = (byte)v;
            }

            labels.Add(label);
            rows.Add(pixels);
            sources.Add($"{csv}:{lineNumber}");
        }

        if (rows.Count == 0)
        {
            throw new InvalidDataException($"CSV '{csv}' has no data rows.");
        }

        var side = (int)Math.Round(Math.Sqrt(width!.Value));
        if (side * side != width)
        {
            throw new InvalidDataException($"CSV '{csv}': rows have {width} pixels, which is not a square image.");
        }

        var classes = labels.Distinct().Order().ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var items = labels.Select((l, i) => new DatasetItem(sources[i], index[l])).ToList();
        return new ImageDataset(classes.Select(c => c.ToString(CultureInfo.InvariantCulture)).ToList(), items, [.. rows], side);
    }
}

/// <summary>Hold-out and K-fold splits, class weights, and label-balanced sampling.</summary>
public static class Splits
{
    /// <summary>A stratified hold-out split: about <paramref name="validationFraction"/> of each class goes to validation.</summary>
    public static (int[] Train, int[] Validation) Stratified(IReadOnlyList<int> labels, double validationFraction, int seed)
    {
        if (validationFraction is < 0 or >= 1)
        {
            throw new ArgumentException($"validation fraction must be in [0, 1), got {validationFraction}.");
        }

        var train = new List<int>();
        var validation = new List<int>();
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var members = Shuffle(group.ToArray(), seed, group.Key);
            var n = (int)Math.Round(members.Length * validationFraction);
            if (validationFraction > 0 && n == 0 && members.Length > 1)
            {
                n = 1;
            }

            validation.AddRange(members.Take(n));
            train.AddRange(members.Skip(n));
        }

        train.Sort();
        validation.Sort();
        return ([.. train], [.. validation]);
    }

    /// <summary>Stratified K folds: fold k's validation indices (each sample in exactly one fold).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 2 or above the sample count (a fine-tune checks this with its settings first).</exception>
    public static int[][] KFold(IReadOnlyList<int> labels, int k, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, labels.Count);

        var folds = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        var next = 0;
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            foreach (var i in Shuffle(group.ToArray(), seed, group.Key))
            {
                folds[next++ % k].Add(i);
            }
        }

        return folds.Select(f => f.Order().ToArray()).ToArray();
    }

    /// <summary>Inverse-frequency class weights, n / (classes · count_c) (scikit-learn's "balanced"); 0 for absent classes.</summary>
    public static float[] ClassWeights(IReadOnlyList<int> labels, int classes)
    {
        var counts = new int[classes];
        foreach (var l in labels)
        {
            counts[l]++;
        }

        return counts.Select(c => c == 0 ? 0f : (float)labels.Count / (classes * c)).ToArray();
    }

    /// <summary>
    /// One epoch of a balanced sampler: as many draws as samples, each class equally often (±1),
    /// samples drawn per class without replacement until the class is exhausted, then again.
    /// </summary>
    public static int[] BalancedEpoch(IReadOnlyList<int> labels, int seed, int epoch)
    {
        var byClass = Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        var random = new SampleRandom(seed, epoch, -1);
        var result = new int[labels.Count];
        var cursors = new int[byClass.Length];
        var pools = byClass.Select((members, c) => Shuffle(members, seed ^ epoch, c)).ToArray();
        for (var i = 0; i < result.Length; i++)
        {
            var c = i % byClass.Length;
            if (cursors[c] == pools[c].Length)
            {
                pools[c] = Shuffle(byClass[c], seed ^ epoch ^ i, c);
                cursors[c] = 0;
            }

            result[i] = pools[c][cursors[c]++];
        }

        // Interleave classes randomly, so batches are not strictly periodic.
        for (var i = result.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }

        return result;
    }

    /// <summary>Indices with every minority class repeated up to the majority count (augmentation supplies the variation).</summary>
    public static int[] Oversample(IReadOnlyList<int> labels)
    {
        var byClass = Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        var max = byClass.Max(g => g.Length);
        return byClass.SelectMany(g => Enumerable.Range(0, max).Select(i => g[i % g.Length])).ToArray();
    }

    /// <summary>A deterministic shuffle of <paramref name="items"/>.</summary>
    public static int[] Shuffle(int[] items, long seed, long salt)
    {
        var result = (int[])items.Clone();
        var random = new SampleRandom(seed, salt, 0x5117);
        for (var i = result.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }

        return result;
    }
}

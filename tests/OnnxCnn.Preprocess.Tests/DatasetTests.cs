using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

public class DatasetTests
{
    [Fact]
    public void FromFolder_SortedClassesAndFiles_Recursive_OnlyImages()
    {
        using var dir = new TempDir();
        foreach (var (cls, file) in new[] { ("dogs", "b.jpg"), ("dogs", "sub/a.PNG"), ("cats", "z.jpeg"), ("cats", "notes.txt"), ("cats", "a.jpg") })
        {
            var path = Path.Combine(dir.Path, cls, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, [1]);
        }

        var ds = ImageDataset.FromFolder(dir.Path);
        Assert.Equal(["cats", "dogs"], ds.Classes);
        Assert.Equal(["cats/a.jpg", "cats/z.jpeg", "dogs/b.jpg", "dogs/sub/a.PNG"], ds.Items.Select(i => Path.GetRelativePath(dir.Path, i.Source)));
        Assert.Equal([0, 0, 1, 1], ds.Labels);
    }

    [Fact]
    public void FromFolder_EmptyClass_IsNamed()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "empty"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "full"));
        File.WriteAllBytes(Path.Combine(dir.Path, "full", "x.jpg"), [1]);
        var e = Assert.Throws<InvalidDataException>(() => ImageDataset.FromFolder(dir.Path));
        Assert.Contains("class folder(s) 'empty' hold no images", e.Message);
        Assert.StartsWith("dataset folder '/nonexistent' not found", Assert.Throws<DirectoryNotFoundException>(() => ImageDataset.FromFolder("/nonexistent")).Message);
    }

    [Fact]
    public void FromImages_FlatFolder_OneClassNamedAfterIt_SortedRecursive_OnlyImages()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "photos");
        foreach (var file in new[] { "b.jpg", "sub/a.PNG", "notes.txt", "a.jpeg" })
        {
            var path = Path.Combine(root, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, [1]);
        }

        var ds = ImageDataset.FromImages(root + "/");
        Assert.Equal(["photos"], ds.Classes);
        Assert.Equal(["a.jpeg", "b.jpg", "sub/a.PNG"], ds.Items.Select(i => Path.GetRelativePath(root, i.Source)));
        Assert.Equal([0, 0, 0], ds.Labels);
    }

    [Fact]
    public void FromImages_NoImagesOrNoFolder_IsNamed()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "notes.txt"), [1]);
        Assert.StartsWith($"image folder '{dir.Path}' holds no images (.jpg, .jpeg, .png)", Assert.Throws<InvalidDataException>(() => ImageDataset.FromImages(dir.Path)).Message);
        Assert.StartsWith("image folder '/nonexistent' not found", Assert.Throws<DirectoryNotFoundException>(() => ImageDataset.FromImages("/nonexistent")).Message);
    }

    [Fact]
    public void FromCsvPixels_SignLanguageLayout_HeaderDetected_SideInferred()
    {
        using var dir = new TempDir();
        var header = "label," + string.Join(",", Enumerable.Range(1, 16).Select(i => $"pixel{i}"));
        File.WriteAllLines(dir.File("d.csv"), [header, "3," + string.Join(",", Enumerable.Range(0, 16)), "0," + string.Join(",", Enumerable.Repeat(255, 16))]);
        var ds = ImageDataset.FromCsvPixels(dir.File("d.csv"));
        Assert.Equal(4, ds.Side);
        Assert.Equal(["0", "3"], ds.Classes);
        Assert.Equal([1, 0], ds.Labels);
        using var image = ds.PixelImage(0);
        Assert.Equal([5, 5, 5], image.Row(1).Slice(3, 3).ToArray());
    }

    [Theory]
    [InlineData("1,2,3,4,5\n2,1,2,3", "line 2: 3 pixel values, but earlier rows have 4.")]
    [InlineData("1,2,3,4,300", "line 1: pixel4 '300' is not an integer in 0..255.")]
    [InlineData("1,2,3,4,5\nx,1,2,3,4", "line 2: label 'x' is not an integer.")]
    [InlineData("1,2,3,4", "rows have 3 pixels, which is not a square image.")]
    public void FromCsvPixels_BadRows_NameTheLine(string content, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.csv"), content);
        var e = Assert.Throws<InvalidDataException>(() => ImageDataset.FromCsvPixels(dir.File("bad.csv")));
        Assert.EndsWith(message, e.Message);
        Assert.StartsWith($"CSV '{dir.File("bad.csv")}'", e.Message);
    }

    [Fact]
    public void Manifest_RelativePaths_LabelsSorted()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.csv"), "path,label\nimg/1.jpg,zebra\nimg/2.jpg,ant\n");
        var ds = ImageDataset.FromManifest(dir.File("m.csv"));
        Assert.Equal(["ant", "zebra"], ds.Classes);
        Assert.Equal(Path.Combine(dir.Path, "img/1.jpg"), ds.Items[0].Source);
        File.WriteAllText(dir.File("bad.csv"), "justapath\n");
        Assert.Equal($"manifest '{dir.File("bad.csv")}' line 1: expected 'path,label', got 'justapath'.", Assert.Throws<InvalidDataException>(() => ImageDataset.FromManifest(dir.File("bad.csv"))).Message);
    }

    [Fact]
    public void Stratified_KeepsClassProportions_AndIsDeterministic()
    {
        var labels = Enumerable.Range(0, 100).Select(i => i < 80 ? 0 : 1).ToArray();
        var (train, val) = Splits.Stratified(labels, 0.2, seed: 1);
        Assert.Equal(16, val.Count(i => labels[i] == 0));
        Assert.Equal(4, val.Count(i => labels[i] == 1));
        Assert.Empty(train.Intersect(val));
        Assert.Equal(100, train.Length + val.Length);
        Assert.Equal(val, Splits.Stratified(labels, 0.2, seed: 1).Validation);
        Assert.NotEqual(val, Splits.Stratified(labels, 0.2, seed: 2).Validation);
    }

    [Fact]
    public void KFold_EverySampleInOneFold_Stratified()
    {
        var labels = Enumerable.Range(0, 50).Select(i => i % 5 == 0 ? 1 : 0).ToArray();
        var folds = Splits.KFold(labels, 5, seed: 3);
        Assert.Equal(Enumerable.Range(0, 50), folds.SelectMany(f => f).Order());
        Assert.All(folds, f => Assert.Equal(2, f.Count(i => labels[i] == 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.KFold(labels, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.KFold(labels, labels.Length + 1, 0));
    }

    [Fact]
    public void ClassWeights_AreInverseFrequency()
    {
        var weights = Splits.ClassWeights([0, 0, 0, 1], 2);
        Assert.Equal(4f / (2 * 3), weights[0], 1e-6f);
        Assert.Equal(2f, weights[1], 1e-6f);
    }

    [Fact]
    public void BalancedSampler_EqualLabelFrequencies()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => i < 900 ? 0 : i < 990 ? 1 : 2).ToArray();
        var epoch = Splits.BalancedEpoch(labels, seed: 5, epoch: 0);
        Assert.Equal(1000, epoch.Length);
        var counts = epoch.GroupBy(i => labels[i]).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(counts.Values, c => Assert.InRange(c, 333, 334));
        // The rare class's 10 samples are all used, each about 33 times.
        Assert.Equal(10, epoch.Where(i => labels[i] == 2).Distinct().Count());
        Assert.NotEqual(epoch, Splits.BalancedEpoch(labels, seed: 5, epoch: 1));
    }

    [Fact]
    public void Oversample_RepeatsMinorityToMajorityCount()
    {
        var indices = Splits.Oversample([0, 0, 0, 0, 1]);
        Assert.Equal(8, indices.Length);
        Assert.Equal(4, indices.Count(i => i == 4));
    }
}

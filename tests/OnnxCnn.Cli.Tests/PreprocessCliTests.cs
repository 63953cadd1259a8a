using System.Text.Json;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class PreprocessCliTests
{
    [Theory]
    [InlineData("photo1.jpg", "photo1")]
    [InlineData("photo2.png", "photo2")]
    public void Preprocess_ImageNet_EqualsTorchvision(string file, string reference)
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = Cli.Run("preprocess", RepoPaths.Fixture("preprocess", "photos", file), "--preprocess", "imagenet", "--out", dir.File("x.npy"));
        Assert.True(code == 0, stderr);
        Assert.Contains("float32[1,3,224,224]", stdout);
        using var ours = Npy.Read(dir.File("x.npy"));
        using var theirs = Npy.Read(RepoPaths.Fixture("preprocess", "imagenet", reference + ".npy"));
        var a = ours.As<float>().ToArray();
        var b = theirs.As<float>().ToArray();
        var mean = a.Zip(b, (x, y) => Math.Abs(x - y)).Average();
        var max = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(mean <= 0.01 && max <= 0.1, $"mean |Δ| {mean}, max |Δ| {max}");
    }

    [Fact]
    public void Preprocess_CorruptImage_OneLineNamingFile_NoOutput()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(RepoPaths.Fixture("preprocess", "photos", "photo1.jpg"));
        File.WriteAllBytes(dir.File("broken.jpg"), bytes[..(bytes.Length / 2)]);
        var (code, _, stderr) = Cli.Run("preprocess", dir.File("broken.jpg"), "--out", dir.File("x.npy"));
        Assert.Equal(2, code);
        Assert.StartsWith($"error: JPEG file '{dir.File("broken.jpg")}' is truncated", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(dir.File("x.npy")));
    }

    [Fact]
    public void Preprocess_BadSpecToken_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("preprocess", RepoPaths.Fixture("preprocess", "photos", "photo1.jpg"), "--preprocess", "resize=abc", "--out", "/tmp/never.npy");
        Assert.Equal(2, code);
        Assert.Equal("error: --preprocess: preprocess spec token 'resize=abc': 'abc' is not a positive size.", stderr.Trim());
    }

    [Fact]
    public void AugmentPreview_FixedSeed_ByteIdenticalFiles()
    {
        using var dir = new TempDir();
        string[] Args(string output) => ["augment-preview", RepoPaths.Fixture("preprocess", "photos"), "--augment", "rotation=30,shift=0.1,shear=10,zoom=0.2,hflip,fill=wrap,brightness=0.3,hue=0.1,rrc=0.5:1", "--seed", "4", "--count", "6", "-o", output];
        Assert.Equal(0, Cli.Run(Args(dir.File("a.png"))).Code);
        Assert.Equal(0, Cli.Run(Args(dir.File("b.png"))).Code);
        Assert.Equal(File.ReadAllBytes(dir.File("a.png")), File.ReadAllBytes(dir.File("b.png")));
        var other = Cli.Run([.. Args(dir.File("c.png"))[..^3], "7", "-o", dir.File("c.png")]);
        Assert.NotEqual(File.ReadAllBytes(dir.File("a.png")), File.ReadAllBytes(dir.File("c.png")));
    }

    [Fact]
    public void AugmentPreview_BadAugmentToken_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("augment-preview", RepoPaths.Fixture("preprocess", "photos", "photo1.jpg"), "--augment", "spin=3", "-o", "/tmp/never.png");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --augment: augment spec token 'spin=3': unknown token", stderr);
    }

    [Fact]
    public void BenchPreprocess_WithCorruptFile_SkipsNamesAndCountsIt()
    {
        using var dir = new TempDir();
        foreach (var (cls, src) in new[] { ("a", "photo1.jpg"), ("b", "photo2.png") })
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, cls));
            File.Copy(RepoPaths.Fixture("preprocess", "photos", src), Path.Combine(dir.Path, cls, src));
        }

        File.WriteAllText(Path.Combine(dir.Path, "a", "corrupt.jpg"), "not a jpeg");
        var (code, stdout, stderr) = Cli.Run("bench", "preprocess", "--data", dir.Path, "--augment", "hflip", "--epochs", "1", "--batch", "2", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("skipped").GetInt32());
        Assert.Equal(2, doc.RootElement.GetProperty("images").GetInt32());
        Assert.Contains($"warning: skipped '{Path.Combine(dir.Path, "a", "corrupt.jpg")}'", stderr);
    }

    [Fact]
    public void BenchPreprocess_FlatFolder_MeasuresEveryImage()
    {
        using var dir = new TempDir();
        foreach (var src in new[] { "photo1.jpg", "photo2.png" })
        {
            File.Copy(RepoPaths.Fixture("preprocess", "photos", src), Path.Combine(dir.Path, src));
        }

        var (code, stdout, stderr) = Cli.Run("bench", "preprocess", "--data", dir.Path, "--epochs", "1", "--batch", "2", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("images").GetInt32());
        Assert.True(doc.RootElement.GetProperty("imagesPerSecond").GetDouble() > 0);
    }

    [Fact]
    public void BenchPreprocess_MissingFolder_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("bench", "preprocess", "--data", "/nonexistent/bench-images");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --data: folder '/nonexistent/bench-images' not found.", stderr);
    }
}

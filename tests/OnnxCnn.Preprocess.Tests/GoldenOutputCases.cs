using System.Runtime.InteropServices;
using System.Security.Cryptography;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>
/// The preprocessing outputs that <see cref="GoldenOutputTests"/> pins: synthetic images of
/// several sizes through every resize/crop/normalise spec and augmentation, and a real
/// pipeline over the JPEG/PNG decode fixtures. Each case yields the float tensor(s) a model
/// would see; the test compares their SHA-256 with the hash the code produced at commit
/// fa724c3 (before the fused kernels), so every optimisation must be bit-identical.
/// </summary>
internal static class GoldenOutputCases
{
    public static readonly (int Width, int Height)[] Sizes = [(500, 375), (375, 500), (333, 251), (640, 480), (200, 150), (256, 300), (3, 2)];

    public static readonly string[] Specs =
    [
        "imagenet",
        "resize=256,crop=224,layout=nhwc",
        "caffe,resize=256,crop=224",
        "resize=160x200,crop=150x190,scale=1/255",
        "fit=224x224,pad=114,scale=1/255",
        "resize=64,crop=80",
        "resize=300,inception",
    ];

    public static readonly string[] Augments =
    [
        "rotation=20,shift=0.1,zoom=0.1,shear=10,hflip",
        "rotation=40,shift=0.3,zoom=0.6:1.4,vflip,fill=constant:77",
        "rotation=40,shift=0.3,zoom=0.6:1.4,fill=reflect",
        "rotation=40,shift=0.3,zoom=0.6:1.4,fill=wrap",
        "rrc=0.08:1,hflip",
        "brightness=0.4,contrast=0.4,saturation=0.4,hue=0.1,hflip",
        "rotation=30,erase=1",
    ];

    /// <summary>A deterministic image with smooth areas, sharp edges, noise and saturated pixels (so filter overshoot clips).</summary>
    public static RgbImage Synthetic(int width, int height, int seed)
    {
        var image = RgbImage.Create(width, height);
        var random = new Random(seed);
        var px = image.Pixels;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = ((y * width) + x) * 3;
                var edge = ((x / 17) + (y / 13)) % 2 == 0 ? 255 : 0;
                px[i] = (byte)(((x * 255) / Math.Max(1, width - 1) + random.Next(-20, 21)) is var r ? Math.Clamp(r, 0, 255) : 0);
                px[i + 1] = (byte)(x % 29 < 3 || y % 31 < 2 ? edge : (y * 255) / Math.Max(1, height - 1));
                px[i + 2] = (byte)random.Next(256);
            }
        }

        return image;
    }

    /// <summary>Resize/crop then convert (<paramref name="fused"/>: the one-pass <see cref="ImageTransforms.ApplyToTensor"/>).</summary>
    public static float[] Transform(int width, int height, string specText, ResampleFilter filter, bool fused = false)
    {
        var spec = PreprocessSpec.Parse(specText);
        using var image = Synthetic(width, height, (width * 31) + height);
        if (fused)
        {
            var buffer = new float[3 * 1024 * 1024];
            buffer.AsSpan().Fill(float.NaN);
            var (w, h) = ImageTransforms.ApplyToTensor(image, spec, buffer, filter);
            Assert.All(buffer[(3 * w * h)..], v => Assert.True(float.IsNaN(v))); // nothing written past the sample
            return buffer[..(3 * w * h)];
        }

        using var prepared = ImageTransforms.Apply(image, spec, filter);
        var values = new float[3 * prepared.Width * prepared.Height];
        ImageTransforms.ToTensor(prepared, spec, values);
        return values;
    }

    public static float[] Augment(int width, int height, string augmentText, string specText, int samples)
    {
        var spec = PreprocessSpec.Parse(specText);
        var augmenter = new Augmenter(AugmentSpec.Parse(augmentText), seed: 7);
        using var image = Synthetic(width, height, (width * 31) + height);
        var all = new List<float>();
        for (var index = 0; index < samples; index++)
        {
            using var prepared = augmenter.Apply(image, spec, epoch: 1, index);
            var values = new float[3 * prepared.Width * prepared.Height];
            ImageTransforms.ToTensor(prepared, spec, values);
            augmenter.Erase(values, prepared.Width, prepared.Height, epoch: 1, index, spec.Nhwc);
            all.AddRange(values);
        }

        return [.. all];
    }

    /// <summary>The decode fixtures (JPEG 4:2:0/4:4:4/progressive/grey/CMYK/EXIF-rotated, PNG) as one class folder through <see cref="BatchPipeline"/>.</summary>
    public static async Task<float[]> Pipeline(string specText, string? augmentText)
    {
        using var dir = new TempDir();
        var folder = Directory.CreateDirectory(Path.Combine(dir.Path, "all")).FullName;
        foreach (var name in PipelineFiles)
        {
            File.Copy(RepoPaths.Fixture("decode", name), Path.Combine(folder, name));
        }

        var dataset = ImageDataset.FromFolder(dir.Path);
        var spec = PreprocessSpec.Parse(specText);
        var options = new PipelineOptions
        {
            BatchSize = 4, Workers = 2, Preprocess = spec, Augment = augmentText is null ? null : AugmentSpec.Parse(augmentText), Seed = 3,
        };
        var pipeline = new BatchPipeline(dataset, options, BatchPipeline.DefaultLoader(dataset, spec));
        var all = new List<float>();
        await foreach (var batch in pipeline.Epoch(Enumerable.Range(0, dataset.Items.Count).ToArray(), epoch: 2))
        {
            using (batch)
            {
                all.AddRange(batch.Values.ToArray());
            }
        }

        return [.. all];
    }

    public static readonly string[] PipelineFiles =
    [
        "jpeg_420.jpg", "jpeg_444.jpg", "jpeg_progressive.jpg", "jpeg_grey.jpg", "jpeg_cmyk.jpg", "jpeg_odd_422.jpg",
        "jpeg_scale_128x96.jpg", "orientation_6.jpg", "png_rgb8.png", "png_palette_trns.png",
    ];

    public static string Hash(float[] values) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())))[..24];
}

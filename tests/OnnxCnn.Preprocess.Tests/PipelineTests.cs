using OnnxCnn.TestUtilities;

namespace OnnxCnn.Preprocess.Tests;

public class PipelineTests
{
    private static ImageDataset CsvDataset(TempDir dir, int rows)
    {
        var lines = Enumerable.Range(0, rows).Select(r => $"{r % 3}," + string.Join(",", Enumerable.Range(0, 64).Select(i => (i * 3 + r * 7) % 256)));
        File.WriteAllLines(dir.File("d.csv"), lines);
        return ImageDataset.FromCsvPixels(dir.File("d.csv"));
    }

    private static async Task<List<(float[] Values, int[] Labels, int[] Indices)>> Collect(BatchPipeline pipeline, IReadOnlyList<int> order, int epoch = 0)
    {
        var result = new List<(float[], int[], int[])>();
        await foreach (var batch in pipeline.Epoch(order, epoch))
        {
            using (batch)
            {
                result.Add((batch.Values.ToArray(), batch.Labels[..batch.Count], batch.Indices[..batch.Count]));
            }
        }

        return result;
    }

    [Fact]
    public async Task Epoch_BatchesInOrder_WithLabelsAndNormalisedValues()
    {
        using var dir = new TempDir();
        var ds = CsvDataset(dir, 10);
        var options = new PipelineOptions { BatchSize = 4, Preprocess = PreprocessSpec.Parse("resize=8x8,scale=1/255") };
        var batches = await Collect(new BatchPipeline(ds, options, ds.PixelImage), Enumerable.Range(0, 10).ToArray());
        Assert.Equal([4, 4, 2], batches.Select(b => b.Labels.Length));
        Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b.Indices));
        Assert.Equal(ds.Labels, batches.SelectMany(b => b.Labels));
        // Grey pixels: all three planes equal; first pixel of sample 1 is (0*3 + 7) / 255.
        var first = batches[0].Values;
        Assert.Equal(7 / 255f, first[3 * 64], 1e-6f);
        Assert.Equal(first[3 * 64], first[(3 * 64) + 64]);
    }

    [Fact]
    public async Task Epoch_CorruptSample_SkippedNamedAndCounted_RunGoesOn()
    {
        using var dir = new TempDir();
        var ds = CsvDataset(dir, 9);
        var warnings = new List<string>();
        var pipeline = new BatchPipeline(ds, new PipelineOptions { BatchSize = 4, Preprocess = PreprocessSpec.Parse("resize=8x8") }, index =>
            index == 5 ? throw new InvalidDataException("'x.jpg' is not a JPEG: truncated") : ds.PixelImage(index));
        pipeline.Warning += w => { lock (warnings) { warnings.Add(w); } };
        var batches = await Collect(pipeline, Enumerable.Range(0, 9).ToArray());
        Assert.Equal(8, batches.Sum(b => b.Labels.Length));
        Assert.DoesNotContain(5, batches.SelectMany(b => b.Indices));
        Assert.Equal([ds.Items[5].Source], pipeline.Skipped);
        Assert.Equal($"skipped '{ds.Items[5].Source}': 'x.jpg' is not a JPEG: truncated", Assert.Single(warnings));
    }

    [Fact]
    public async Task Epoch_StrictMode_CorruptSampleIsError()
    {
        using var dir = new TempDir();
        var ds = CsvDataset(dir, 4);
        var pipeline = new BatchPipeline(ds, new PipelineOptions { BatchSize = 2, Strict = true, Preprocess = PreprocessSpec.Parse("resize=8x8") },
            _ => throw new InvalidDataException("bad"));
        await Assert.ThrowsAsync<InvalidDataException>(() => Collect(pipeline, [0, 1, 2, 3]));
    }

    [Fact]
    public async Task Epoch_WithAugmentation_SameBytesForOneTwoFourWorkers()
    {
        using var dir = new TempDir();
        var ds = CsvDataset(dir, 12);
        List<(float[], int[], int[])> Run(int workers) => Collect(new BatchPipeline(ds,
            new PipelineOptions { BatchSize = 5, Workers = workers, Seed = 9, Augment = AugmentSpec.Parse("rotation=20,shift=0.1,hflip,brightness=0.2,erase=0.5"), Preprocess = PreprocessSpec.Parse("resize=12,crop=8") },
            ds.PixelImage), Enumerable.Range(0, 12).ToArray(), epoch: 3).GetAwaiter().GetResult();
        var one = Run(1);
        var two = Run(2);
        var four = Run(4);
        Assert.Equal(one.SelectMany(b => b.Item1), two.SelectMany(b => b.Item1));
        Assert.Equal(one.SelectMany(b => b.Item1), four.SelectMany(b => b.Item1));
    }

    [Fact]
    public void Batches_SeveralEpochsInARow_EqualEachEpochOnItsOwn()
    {
        using var dir = new TempDir();
        var ds = CsvDataset(dir, 11);
        var pipeline = new BatchPipeline(ds, new PipelineOptions { BatchSize = 4, Workers = 3, Seed = 5, Augment = AugmentSpec.Parse("rotation=20,hflip"), Preprocess = PreprocessSpec.Parse("resize=8x8") }, ds.PixelImage);
        int[] Order(int epoch) => [.. Enumerable.Range(0, 11).OrderBy(i => (i * 7 * epoch) % 11)];
        List<(int Epoch, float[] Values, int[] Indices)> Take(IEnumerable<ImageBatch> batches) =>
            [.. batches.Select(b => { using (b) { return (b.Epoch, b.Values.ToArray(), b.Indices[..b.Count]); } })];

        var together = Take(pipeline.Batches([(Order(2), 2), ([], 3), (Order(4), 4)]));
        var apart = Take(pipeline.Batches(Order(2), 2)).Concat(Take(pipeline.Batches(Order(4), 4))).ToList();

        Assert.Equal([2, 2, 2, 4, 4, 4], together.Select(b => b.Epoch));
        Assert.Equal(apart.Select(b => b.Indices), together.Select(b => b.Indices));
        Assert.Equal(apart.SelectMany(b => b.Values), together.SelectMany(b => b.Values));
        // Augmentation follows the batch's epoch: epoch 2's draws differ from epoch 4's for the same order.
        Assert.NotEqual(Take(pipeline.Batches(Order(2), 4)).SelectMany(b => b.Values), apart.Take(3).SelectMany(b => b.Values));
    }

    [Fact]
    public void Pipeline_VariableOutputSize_IsRefused()
    {
        using var dir = new TempDir();
        var ds = CsvDataset(dir, 2);
        var pipeline = new BatchPipeline(ds, new PipelineOptions { Preprocess = PreprocessSpec.Parse("resize=256") }, _ => throw new InvalidOperationException());
        var e = Assert.Throws<ArgumentException>(() => pipeline.OutputSize);
        Assert.Contains("does not give a fixed size", e.Message);
    }
}

using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;
using Xunit.Abstractions;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// The embedding path under load: one <see cref="Classifier"/> shared by 8 threads, each
/// classifying encoded images (decode + preprocessing + run) 10,000 times, gives what one thread
/// gets, bit for bit.
/// </summary>
[Collection(SoakCollection.Name)]
public class ClassifierSoakTests(ITestOutputHelper output)
{
    private const int Seed = 20261201;

    [Fact]
    public void Classify_EightThreadsTenThousandImagesEach_BitwiseEqualToSequential()
    {
        const int threads = 8, perThread = 10_000, distinct = 24;
        output.WriteLine($"seed {Seed}");
        var random = new Random(Seed);
        var images = Enumerable.Range(0, distinct).Select(_ =>
        {
            using var image = RgbImage.Create(random.Next(20, 40), random.Next(20, 40));
            random.NextBytes(image.Pixels);
            return PngEncoder.Encode(image);
        }).ToArray();
        using var classifier = Classifier.Open(RepoPaths.Fixture("tiny_resnet", "model.onnx"),
            new ClassifierOptions { Preprocess = PreprocessSpec.Parse("imagenet,resize=36x36,crop=32") });
        var expected = images.Select(png => classifier.Classify(png, 10).ToArray()).ToArray();

        var mismatches = 0L;
        var done = 0L;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++)
            {
                var k = ((t * 5) + i) % distinct;
                if (!classifier.Classify(images[k], 10).SequenceEqual(expected[k]))
                {
                    Interlocked.Increment(ref mismatches);
                }

                Interlocked.Increment(ref done);
            }
        });
        output.WriteLine($"{done} classifications on {threads} threads, {mismatches} differ from the sequential answer");
        Assert.Equal((long)threads * perThread, done);
        Assert.Equal(0, mismatches);
    }
}

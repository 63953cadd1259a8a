using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;
using Xunit.Abstractions;

namespace OnnxCnn.Runtime.Tests;

/// <summary>One Classifier shared by eight threads gives what one thread gets, bit for bit.</summary>
public class ClassifierConcurrencyTests(ITestOutputHelper output)
{
    private const int Seed = 20261201;

    [Fact]
    public void Classify_EightThreadsSameTwoHundredImages_BitwiseEqualToOneThread()
    {
        output.WriteLine($"seed {Seed}");
        using var dir = new TempDir();
        var random = new Random(Seed);
        var files = new string[200];
        for (var i = 0; i < files.Length; i++)
        {
            using var image = RgbImage.Create(random.Next(24, 64), random.Next(24, 64));
            random.NextBytes(image.Pixels);
            files[i] = dir.File($"{i:D3}.png");
            PngEncoder.Save(image, files[i]);
        }

        using var classifier = Classifier.Open(RepoPaths.Fixture("tiny_resnet", "model.onnx"),
            new ClassifierOptions { Preprocess = PreprocessSpec.Parse("imagenet,resize=36x36,crop=32"), BatchSize = 8, DecodeThreads = 2 });
        var expected = Everything(classifier, files);

        var results = new float[8][][];
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() => results[t] = Everything(classifier, files))).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        for (var t = 0; t < threads.Length; t++)
        {
            Assert.Equal(expected.Length, results[t].Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(expected[i].AsSpan().SequenceEqual(results[t][i]), $"thread {t}, answer {i} differs");
            }
        }
    }

    /// <summary>Each image one at a time, then all of them batched: 400 probability rows.</summary>
    private static float[][] Everything(Classifier classifier, string[] files)
    {
        var single = files.Select(f => classifier.Classify(f, 10).OrderBy(p => p.Index).Select(p => p.Probability).ToArray());
        var batched = classifier.ClassifyEach(files).Select(r => r.Probabilities.ToArray());
        return [.. single, .. batched];
    }
}

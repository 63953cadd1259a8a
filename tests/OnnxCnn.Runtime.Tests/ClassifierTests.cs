using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

/// <summary>The Classifier on the tiny ResNet fixture (PyTorch-exported, 10 classes, N×3×32×32) and real photos.</summary>
public class ClassifierTests
{
    private static readonly PreprocessSpec Spec = PreprocessSpec.Parse("imagenet,resize=36,crop=32");

    private static string Model => RepoPaths.Fixture("tiny_resnet", "model.onnx");

    private static string Png => RepoPaths.Fixture("preprocess", "photos", "photo2.png");

    private static string Jpeg => RepoPaths.Fixture("preprocess", "photos", "photo1.jpg");

    [Fact]
    public void Classify_TinyResNetPhoto_ProbabilitiesAreSoftmaxOfPyTorchLogits()
    {
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec });
        using var logits = Npy.Read(RepoPaths.Fixture("tiny_resnet", "photo2_logits.npy"));
        var l = logits.As<float>().Span.ToArray().Select(v => (double)v).ToArray();
        var max = l.Max();
        var expected = l.Select(v => Math.Exp(v - max) / l.Sum(u => Math.Exp(u - max))).ToArray();

        var top = classifier.Classify(Png, top: 10);

        Assert.Equal(10, top.Count);
        Assert.Equal(Enumerable.Range(0, 10).OrderByDescending(i => expected[i]), top.Select(p => p.Index));
        foreach (var p in top)
        {
            Assert.Equal(p.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Label);
            Assert.True(Math.Abs(p.Probability - expected[p.Index]) < 2e-6, $"class {p.Index}: {p.Probability} vs softmax of PyTorch's logits {expected[p.Index]}");
        }
    }

    [Fact]
    public void Classify_NoLabelsAnywhere_LabelsAreClassIndices()
    {
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec });
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), classifier.Labels);
        Assert.Equal(Spec, classifier.Preprocess);
        Assert.Equal(ExecutionDevice.Cpu, classifier.Device);
    }

    [Fact]
    public void Classify_BytesStreamAndPixels_EqualTheFilePath()
    {
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, Labels = [.. "abcdefghij".Select(c => c.ToString())] });
        foreach (var file in new[] { Png, Jpeg })
        {
            var expected = classifier.Classify(file, 10);
            var bytes = File.ReadAllBytes(file);
            Assert.Equal(expected, classifier.Classify(bytes.AsSpan(), 10));
            using (var stream = File.OpenRead(file))
            {
                Assert.Equal(expected, classifier.Classify(stream, 10));
            }

            using (var unseekable = new ForwardOnlyStream(bytes))
            {
                Assert.Equal(expected, classifier.Classify(unseekable, 10));
            }

            Assert.Equal(expected, classifier.ClassifyBatch([file, file], 10)[1]);
        }

        // Pixels are taken as they are: equal to the file path for a PNG (JPEGs may be decoded smaller in the DCT domain).
        var fromPath = classifier.Classify(Png, 3);
        using var image = ImageDecoder.DecodeFile(Png);
        Assert.Equal(fromPath, classifier.ClassifyPixels(image.Pixels, image.Width, image.Height, 3));
        Assert.Equal(fromPath, classifier.Classify(image, 3));
        Assert.Equal("a", classifier.Labels[0]);
    }

    [Fact]
    public void ClassifyBatch_ChunksSmallerThanTheInput_EqualOneImageAtATimeToFloatPrecision()
    {
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, BatchSize = 3 });
        string[] files = [Png, Jpeg, Png, Jpeg, Jpeg];
        var batch = classifier.ClassifyBatch(files, 10);
        Assert.Equal(5, batch.Count);
        for (var i = 0; i < files.Length; i++)
        {
            var single = classifier.Classify(files[i], 10);
            Assert.Equal(single.Select(p => p.Index), batch[i].Select(p => p.Index));
            Assert.All(single.Zip(batch[i]), pair => Assert.Equal(pair.First.Probability, pair.Second.Probability, 1e-6f));
        }
    }

    [Fact]
    public void ClassifyEach_UnreadableImage_IsReportedInPlaceAndTheOthersAreClassified()
    {
        using var dir = new TempDir();
        var broken = dir.File("broken.png");
        File.WriteAllText(broken, "not a png");
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, BatchSize = 2 });

        var results = classifier.ClassifyEach([Png, broken, dir.File("gone.jpg"), Jpeg]).ToList();

        Assert.Equal([true, false, false, true], results.Select(r => r.Succeeded));
        Assert.Contains($"'{broken}'", results[1].Error);
        Assert.Equal($"image file '{dir.File("gone.jpg")}' not found.", results[2].Error);
        Assert.Equal(classifier.Classify(Jpeg, 10).Select(p => p.Index), results[3].Top(10).Select(p => p.Index));
        Assert.Equal(1.0, results[0].Probabilities.Sum(), 5);
        Assert.Throws<InvalidOperationException>(() => results[1].Top());
        var e = Assert.Throws<InvalidDataException>(() => classifier.ClassifyBatch([Png, broken]));
        Assert.Contains($"'{broken}'", e.Message);
    }

    [Fact]
    public void ClassifyEach_ManyRunsDecodedAhead_ResultsInInputOrderEqualToOneAtATime()
    {
        using var dir = new TempDir();
        var broken = dir.File("broken.jpg");
        File.WriteAllBytes(broken, File.ReadAllBytes(Jpeg)[..200]);
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, BatchSize = 2, DecodeThreads = 3 });
        string[] files = [Jpeg, Png, Png, Jpeg, broken, Png, Jpeg, Jpeg, Png, Png, Jpeg];

        var results = classifier.ClassifyEach(files).ToList();

        Assert.Equal(files, results.Select(r => r.Source));
        Assert.Equal(files.Select(f => f != broken), results.Select(r => r.Succeeded));
        var expected = new Dictionary<string, int[]> { [Png] = [.. classifier.Classify(Png, 10).Select(p => p.Index)], [Jpeg] = [.. classifier.Classify(Jpeg, 10).Select(p => p.Index)] };
        Assert.All(results.Where(r => r.Succeeded), r => Assert.Equal(expected[r.Source], r.Top(10).Select(p => p.Index)));
    }

    [Fact]
    public void ClassifyEach_CancelledPartWay_StopsWithOperationCanceledAndTheClassifierStaysUsable()
    {
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, BatchSize = 2 });
        using var cts = new CancellationTokenSource();
        var files = Enumerable.Repeat(Jpeg, 40).ToArray();
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var result in classifier.ClassifyEach(files, cts.Token))
            {
                if (++seen == 3)
                {
                    cts.Cancel();
                }
            }
        });
        Assert.InRange(seen, 3, 4);

        // Stopping early without cancelling (a caller that takes the first few) leaves nothing running either.
        Assert.Equal(3, classifier.ClassifyEach(files).Take(3).Count());
        Assert.True(classifier.ClassifyEach([Png]).Single().Succeeded);
    }

    [Fact]
    public void Open_MissingModel_NamesTheFile()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Classifier.Open("/nowhere/model.onnx"));
        Assert.Equal("model file '/nowhere/model.onnx' not found.", e.Message);
    }

    [Fact]
    public void Open_NotAnOnnxFile_NamesTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("junk.onnx"), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
        var e = Assert.Throws<InvalidDataException>(() => Classifier.Open(dir.File("junk.onnx")));
        Assert.StartsWith($"model file '{dir.File("junk.onnx")}' is not an ONNX model", e.Message);
    }

    [Fact]
    public void Classify_MissingOrCorruptImage_NamesTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("cut.jpg"), File.ReadAllBytes(Jpeg)[..400]);
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec });
        Assert.Equal($"image file '{dir.File("gone.png")}' not found.", Assert.Throws<FileNotFoundException>(() => classifier.Classify(dir.File("gone.png"))).Message);
        Assert.Contains($"'{dir.File("cut.jpg")}'", Assert.Throws<InvalidDataException>(() => classifier.Classify(dir.File("cut.jpg"))).Message);
        Assert.Contains("'<bytes>'", Assert.Throws<InvalidDataException>(() => classifier.Classify("GIF89a"u8)).Message);
        Assert.Contains("6×4 pixels holds 72 bytes, not 10", Assert.Throws<ArgumentException>(() => classifier.ClassifyPixels(new byte[10], 6, 4)).Message);
    }

    [Fact]
    public void Open_WrongNumberOfLabels_SaysHowManyTheModelScores()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("labels.txt"), "cat\ndog\nbird\n\n");
        var fromList = Assert.Throws<ArgumentException>(() => Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, Labels = ["cat", "dog"] }));
        Assert.Equal("the model scores 10 classes but 2 labels were given in ClassifierOptions.Labels.", fromList.Message);
        var fromFile = Assert.Throws<ArgumentException>(() => Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, LabelsFile = dir.File("labels.txt") }));
        Assert.Equal($"the model scores 10 classes but 3 labels were given in '{dir.File("labels.txt")}'.", fromFile.Message);
    }

    [Fact]
    public void Open_SpecThatDoesNotFitTheInput_NamesInputAndSpec()
    {
        var e = Assert.Throws<ArgumentException>(() => Classifier.Open(Model));
        Assert.StartsWith("the model's input input: float32[batch,3,32,32] does not take the float N×3×224×224 images that preprocess spec 'resize=256,crop=224x224", e.Message);
        var noSize = Assert.Throws<ArgumentException>(() => Classifier.Open(Model, new ClassifierOptions { Preprocess = PreprocessSpec.Parse("resize=32") }));
        Assert.Contains("does not give a fixed input size", noSize.Message);
    }

    [Fact]
    public void Open_OrtsOwnSessionOptions_AreUsedAsGiven()
    {
        using var ort = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1 };
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, OrtSession = ort });
        using var reference = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec });
        Assert.Equal(reference.Classify(Png, 10).Select(p => p.Index), classifier.Classify(Png, 10).Select(p => p.Index));
        var both = Assert.Throws<ArgumentException>(() => Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec, OrtSession = ort, Device = ExecutionDevice.Cpu }));
        Assert.Equal("ClassifierOptions.OrtSession is used as it is; give it without Device or Session.", both.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Classify_TopBelowOne_IsAnError(int top)
    {
        using var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => classifier.Classify(Png, top));
        Assert.StartsWith($"top must be 1 or more, got {top}.", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => classifier.ClassifyBatch([Png], top));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClassifierOptions { BatchSize = 0 });
    }

    [Fact]
    public void Classify_AfterDispose_Throws()
    {
        var classifier = Classifier.Open(Model, new ClassifierOptions { Preprocess = Spec });
        classifier.Dispose();
        Assert.Throws<ObjectDisposedException>(() => classifier.Classify(Png));
    }
}

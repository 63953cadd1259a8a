using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime.Internal;
using OnnxCnn.TestUtilities;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// Heads on small hand-built models: GlobalAveragePool → Flatten → scores, so a pure red, green or
/// blue 2×2 image (scale 1/255) pools to a one-hot colour vector and the scores are known exactly.
/// </summary>
public class ClassifierHeadTests
{
    private const string Spec = "resize=2x2,scale=1/255";

    /// <summary>Saves a pure-colour 2×2 PNG (channel 0 red, 1 green, 2 blue).</summary>
    private static string Colour(TempDir dir, int channel)
    {
        using var image = RgbImage.Create(2, 2);
        for (var i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)(i % 3 == channel ? 255 : 0);
        }

        var path = dir.File($"colour{channel}.png");
        PngEncoder.Save(image, path);
        return path;
    }

    /// <summary>Scores = 3·colour, through <paramref name="tail"/> (Softmax, LogSoftmax, or none), behind an Identity.</summary>
    private static string ThreeClassModel(TempDir dir, string? tail, object batch)
    {
        var builder = new ModelBuilder()
            .Input("image", TensorProto.Types.DataType.Float, batch, 3, 2, 2)
            .Initializer("three", [3f], 1)
            .Node("GlobalAveragePool", ["image"], ["pooled"])
            .Node("Flatten", ["pooled"], ["flat"])
            .Node("Mul", ["flat", "three"], ["logits"]);
        if (tail is not null)
        {
            builder.Node(tail, ["logits"], ["tail"], Int("axis", 1));
        }

        builder.Node("Identity", [tail is null ? "logits" : "tail"], ["scores"])
            .Output("scores", TensorProto.Types.DataType.Float, batch, 3)
            .Metadata("onnxcnn.labels", "red\ngreen\nblue")
            .Metadata("onnxcnn.preprocess", Spec);
        return builder.Save(dir.File($"{tail ?? "logits"}-{batch}.onnx"));
    }

    /// <summary>One column: red − green, through a Sigmoid or as a raw logit.</summary>
    private static string BinaryModel(TempDir dir, bool sigmoid)
    {
        var builder = new ModelBuilder()
            .Input("image", TensorProto.Types.DataType.Float, "N", 3, 2, 2)
            .Initializer("w", [1f, -1f, 0f], 3, 1)
            .Node("GlobalAveragePool", ["image"], ["pooled"])
            .Node("Flatten", ["pooled"], ["flat"])
            .Node("MatMul", ["flat", "w"], [sigmoid ? "logit" : "score"]);
        if (sigmoid)
        {
            builder.Node("Sigmoid", ["logit"], ["score"]);
        }

        return builder.Output("score", TensorProto.Types.DataType.Float, "N", 1)
            .Metadata("onnxcnn.labels", "notred\nred")
            .Metadata("onnxcnn.preprocess", Spec)
            .Save(dir.File(sigmoid ? "sigmoid.onnx" : "logit.onnx"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    public void Classify_LogitsSoftmaxOrLogSoftmaxHead_GivesOneSoftmax(string? tail)
    {
        using var dir = new TempDir();
        using var classifier = Classifier.Open(ThreeClassModel(dir, tail, "N"));
        var top = classifier.Classify(Colour(dir, 0));
        Assert.Equal(["red", "green", "blue"], top.Select(p => p.Label));
        Assert.Equal([0, 1, 2], top.Select(p => p.Index));
        // Softmax of [3, 0, 0] once; applying it twice would give 0.5515.
        Assert.Equal(Math.Exp(3) / (Math.Exp(3) + 2), top[0].Probability, 5);
        Assert.Equal(1.0, top.Sum(p => p.Probability), 5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Classify_OneColumnBinaryModel_GivesPAndOneMinusP(bool sigmoid)
    {
        using var dir = new TempDir();
        using var classifier = Classifier.Open(BinaryModel(dir, sigmoid));
        Assert.Equal(["notred", "red"], classifier.Labels);
        var p = 1 / (1 + Math.Exp(-1));
        var red = classifier.Classify(Colour(dir, 0));
        Assert.Equal(("red", 1), (red[0].Label, red[0].Index));
        Assert.Equal(p, red[0].Probability, 6);
        Assert.Equal(1 - p, red[1].Probability, 6);
        var green = classifier.Classify(Colour(dir, 1), top: 1);
        Assert.Equal("notred", Assert.Single(green).Label);
        Assert.Equal(p, green[0].Probability, 6);
    }

    [Fact]
    public void Open_BinaryModelWithThreeLabels_SaysItScoresTwoClasses()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => Classifier.Open(BinaryModel(dir, true), new ClassifierOptions { Labels = ["a", "b", "c"] }));
        Assert.Equal("the model scores 2 classes but 3 labels were given in ClassifierOptions.Labels.", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void ClassifyBatch_FixedBatchModel_RunsInItsOwnBatchSize(int batch)
    {
        using var dir = new TempDir();
        using var classifier = Classifier.Open(ThreeClassModel(dir, "Softmax", batch), new ClassifierOptions { BatchSize = 16 });
        Assert.Equal(batch, classifier.BatchSize);
        string[] images = [Colour(dir, 2), Colour(dir, 0), Colour(dir, 1), Colour(dir, 0), Colour(dir, 2)];
        var answers = classifier.ClassifyBatch(images, top: 1);
        Assert.Equal(["blue", "red", "green", "red", "blue"], answers.Select(a => a[0].Label));
        Assert.All(answers, a => Assert.Equal(Math.Exp(3) / (Math.Exp(3) + 2), a[0].Probability, 5));
    }

    [Fact]
    public void Probabilities_LogitsRowThatIsADistribution_IsKept()
    {
        Assert.Equal([0.25f, 0.75f], HeadScores.Probabilities([0.25f, 0.75f], HeadKind.Logits));
        Assert.Equal([0.5f, 0.5f], HeadScores.Probabilities([2f, 2f], HeadKind.Logits));
        Assert.Equal([2f, 2f], HeadScores.Probabilities([2f, 2f], HeadKind.Softmax));
    }

    [Fact]
    public void Top_EqualProbabilities_LowerIndexFirst()
    {
        var top = HeadScores.Top([0.2f, 0.4f, 0.2f, 0.2f], 3, ["a", "b", "c", "d"]);
        Assert.Equal(["b", "a", "c"], top.Select(p => p.Label));
    }
}

using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Tests;

/// <summary>predict's incremental output is byte for byte what serialising every answer at the end gave.</summary>
public class PredictionWriterTests
{
    private static readonly (string File, Prediction[] Top)[] Answers =
    [
        ("a/0.jpg", [new Prediction("cat", 0, 0.75f), new Prediction("dog", 1, 0.25f)]),
        ("a/1.jpg", [new Prediction("dog", 1, 0.5f), new Prediction("cat", 0, 0.5f)]),
        ("b/\"q\".png", [new Prediction("ünï", 2, 1f)]),
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Write_Json_EqualsTheWholeListSerialisedAtOnce(int count)
    {
        var answers = Answers.Take(count).ToArray();
        var expected = new StringWriter();
        expected.WriteLine(JsonSerializer.Serialize(answers.Select(p => new { file = p.File, top = p.Top.Select(t => new { label = t.Label, probability = t.Probability }) }), JsonOutput.Options));

        var actual = new StringWriter();
        var writer = new PredictionWriter(actual, json: true);
        foreach (var (file, top) in answers)
        {
            writer.Write(file, top);
        }

        writer.Finish();
        Assert.Equal(expected.ToString(), actual.ToString());
    }

    [Fact]
    public void Write_Text_OneLinePerImageAsItComes()
    {
        var actual = new StringWriter();
        var writer = new PredictionWriter(actual, json: false);
        writer.Write(Answers[0].File, Answers[0].Top);
        Assert.Equal("a/0.jpg: cat 0.7500, dog 0.2500" + Environment.NewLine, actual.ToString());
        writer.Finish();
        Assert.Equal("a/0.jpg: cat 0.7500, dog 0.2500" + Environment.NewLine, actual.ToString());
    }
}

using System.Text.RegularExpressions;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// The README's fine-tune example, compiled with Roslyn as a console program (<see cref="CSharpExample"/>) against
/// the built assemblies and run on the tiny ResNet with two small folders of images: it fails when the example
/// stops compiling, running or reporting its epochs.
/// </summary>
public class ReadmeFineTuneExampleTests
{
    [Fact]
    public void ReadmeFineTuneExample_CompilesTrainsAndReportsEachEpoch()
    {
        using var dir = new TempDir();
        using var validation = new TempDir();
        FineTuneWorkflowTests.MakeDataset(dir, 4);
        FineTuneWorkflowTests.MakeDataset(validation, 2);
        File.Copy(RepoPaths.Fixture("tiny_resnet", "model.onnx"), dir.File("pretrained.onnx"));
        var files = new Dictionary<string, string>
        {
            ["pretrained.onnx"] = dir.File("pretrained.onnx"),
            ["train"] = Path.Combine(dir.Path, "data"),
            ["validation"] = Path.Combine(validation.Path, "data"),
            ["run"] = dir.File("run"),
        };
        var code = CSharpExample.Substitute(CSharpExample.Find(Path.Combine(RepoPaths.Root, "README.md"), "FineTunePlan.Create("), files);
        var assembly = CSharpExample.Compile(code, typeof(FineTuner), typeof(ImageDataset), typeof(OnnxModel), typeof(Runtime.SessionOptions));

        var lines = CSharpExample.Run(assembly).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.Equal(["1/3", "2/3", "3/3"], lines.Select(l => Regex.Match(l, @"^epoch (\d/3): loss \d+\.\d{3}, validation accuracy \d+(\.\d)?\s?%$")).Where(m => m.Success).Select(m => m.Groups[1].Value));
        Assert.Matches(@"^final validation accuracy \d+(\.\d)?\s?%; the model is in run/model.onnx$", lines[^1]);
        Assert.True(File.Exists(Path.Combine(dir.File("run"), "model.onnx")));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir.File("run"), "history.csv")).Length);
    }
}

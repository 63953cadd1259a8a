using System.Text.RegularExpressions;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Graphs.Zoo;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// The README's embedding example, compiled with Roslyn as a console program (<see cref="CSharpExample"/>)
/// against the built OnnxCnn assemblies and run on real files: it fails when the example stops compiling or running.
/// </summary>
public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeEmbeddingExample_CompilesAndClassifies()
    {
        using var dir = new TempDir();
        var code = CSharpExample.Substitute(CSharpExample.Find(Path.Combine(RepoPaths.Root, "README.md"), "Classifier.Open("), Files(dir));
        var assembly = CSharpExample.Compile(code, typeof(Classifier), typeof(PreprocessSpec), typeof(OnnxModel));

        var output = CSharpExample.Run(assembly);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Count(l => Regex.IsMatch(l, @"^(tench|goldfish|shark|tiger|hammerhead|ray|cock|hen|ostrich|finch): \d+(\.\d)?\s?%$")));
        Assert.Equal(3, lines.Count(l => l.StartsWith(dir.File("photos"), StringComparison.Ordinal) && !l.EndsWith("(thread)", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.EndsWith("(thread)", StringComparison.Ordinal)));
        Assert.Matches(@"^class\d+ \(\d+\) on cpu$", lines[^1]);
    }

    /// <summary>The files the example names, made in <paramref name="dir"/>: a "fine-tuned" tiny ResNet, photos, a ResNet-18 (width 1/8) and its labels.</summary>
    private static Dictionary<string, string> Files(TempDir dir)
    {
        var tuned = OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        tuned.Proto.MetadataProps.Add(new StringStringEntryProto { Key = MetadataKeys.Labels, Value = "tench\ngoldfish\nshark\ntiger\nhammerhead\nray\ncock\nhen\nostrich\nfinch" });
        tuned.Proto.MetadataProps.Add(new StringStringEntryProto { Key = MetadataKeys.Preprocess, Value = "imagenet,resize=36,crop=32" });
        tuned.Save(dir.File("model.onnx"));
        var jpeg = RepoPaths.Fixture("preprocess", "photos", "photo1.jpg");
        File.Copy(jpeg, dir.File("cat.jpg"));
        Directory.CreateDirectory(dir.File("photos"));
        for (var i = 0; i < 3; i++)
        {
            File.Copy(jpeg, Path.Combine(dir.File("photos"), $"{i}.jpg"));
        }

        new OnnxModel(ModelZoo.Build("resnet18", new ZooOptions { WidthMultiplier = 0.125, Seed = 3 })).Save(dir.File("resnet18.onnx"));
        File.WriteAllLines(dir.File("imagenet_classes.txt"), Enumerable.Range(0, 1000).Select(i => $"class{i}"));
        return new[] { "model.onnx", "cat.jpg", "photos", "resnet18.onnx", "imagenet_classes.txt" }.ToDictionary(n => n, dir.File);
    }
}

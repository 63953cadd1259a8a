using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Graphs.Zoo;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// The README's embedding example, compiled with Roslyn as a console program (the SDK's implicit
/// usings) against the built OnnxCnn assemblies and run on real files: it fails when the example
/// stops compiling or running.
/// </summary>
public class ReadmeExampleTests
{
    private static readonly Lock ConsoleGate = new();

    [Fact]
    public void ReadmeEmbeddingExample_CompilesAndClassifies()
    {
        using var dir = new TempDir();
        var code = Substitute(ExampleCode(), Files(dir));
        var assembly = Compile(code);

        var output = Run(assembly);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Count(l => Regex.IsMatch(l, @"^(tench|goldfish|shark|tiger|hammerhead|ray|cock|hen|ostrich|finch): \d+(\.\d)?\s?%$")));
        Assert.Equal(3, lines.Count(l => l.StartsWith(dir.File("photos"), StringComparison.Ordinal) && !l.EndsWith("(thread)", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.EndsWith("(thread)", StringComparison.Ordinal)));
        Assert.Matches(@"^class\d+ \(\d+\) on cpu$", lines[^1]);
    }

    /// <summary>The first C# block of the README that opens a Classifier.</summary>
    private static string ExampleCode()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var block = Regex.Matches(readme, "```csharp\\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).FirstOrDefault(b => b.Contains("Classifier.Open(", StringComparison.Ordinal));
        return block ?? throw new InvalidOperationException("README.md has no ```csharp block with Classifier.Open(");
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

    /// <summary>Replaces each quoted file name by its absolute path; a name the example no longer uses fails the test.</summary>
    private static string Substitute(string code, Dictionary<string, string> files)
    {
        foreach (var (name, path) in files)
        {
            var literal = $"\"{name}\"";
            Assert.True(code.Contains(literal, StringComparison.Ordinal), $"the README example no longer names {literal}; update this test's files");
            code = code.Replace(literal, SymbolDisplay.FormatLiteral(path, quote: true), StringComparison.Ordinal);
        }

        return code;
    }

    private static Assembly Compile(string code)
    {
        // What `dotnet new console` gets from ImplicitUsings.
        const string implicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat([typeof(Classifier).Assembly.Location, typeof(PreprocessSpec).Assembly.Location, typeof(OnnxModel).Assembly.Location])
            .Distinct(StringComparer.Ordinal)
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("ReadmeExample",
            [CSharpSyntaxTree.ParseText(implicitUsings, parse), CSharpSyntaxTree.ParseText(code, parse)],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.True(emitted.Success && problems.Count == 0, "the README example does not compile cleanly:\n" + string.Join('\n', problems));
        return AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(image.ToArray()));
    }

    private static string Run(Assembly assembly)
    {
        var entry = assembly.EntryPoint!;
        lock (ConsoleGate)
        {
            var original = Console.Out;
            using var captured = new StringWriter();
            Console.SetOut(TextWriter.Synchronized(captured));
            try
            {
                entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
            }
            finally
            {
                Console.SetOut(original);
            }

            return captured.ToString();
        }
    }
}

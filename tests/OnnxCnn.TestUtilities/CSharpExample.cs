using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace OnnxCnn.TestUtilities;

/// <summary>
/// A C# example from the docs as a console program: found in a Markdown file, its file names pointed at test files,
/// compiled with Roslyn (the SDK's implicit usings, nullable on, no warning allowed) against the built OnnxCnn
/// assemblies, and run with its console output captured.
/// </summary>
public static class CSharpExample
{
    private static readonly Lock ConsoleGate = new();

    /// <summary>The first <c>```csharp</c> block of <paramref name="markdownFile"/> that contains <paramref name="marker"/>.</summary>
    public static string Find(string markdownFile, string marker)
    {
        var text = File.ReadAllText(markdownFile);
        var block = Regex.Matches(text, "```csharp\\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).FirstOrDefault(b => b.Contains(marker, StringComparison.Ordinal));
        return block ?? throw new InvalidOperationException($"{Path.GetFileName(markdownFile)} has no ```csharp block with {marker}");
    }

    /// <summary>Replaces each quoted file name by its absolute path; a name the example no longer uses is an error.</summary>
    public static string Substitute(string code, IReadOnlyDictionary<string, string> files)
    {
        foreach (var (name, path) in files)
        {
            var literal = $"\"{name}\"";
            if (!code.Contains(literal, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the example no longer names {literal}; update the test's files");
            }

            code = code.Replace(literal, SymbolDisplay.FormatLiteral(path, quote: true), StringComparison.Ordinal);
        }

        return code;
    }

    /// <summary>Compiles <paramref name="code"/> against the platform and <paramref name="libraries"/>' assemblies; a warning or error is an exception listing them.</summary>
    public static Assembly Compile(string code, params Type[] libraries)
    {
        // What `dotnet new console` gets from ImplicitUsings.
        const string implicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(libraries.Select(t => t.Assembly.Location))
            .Distinct(StringComparer.Ordinal)
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Example",
            [CSharpSyntaxTree.ParseText(implicitUsings, parse), CSharpSyntaxTree.ParseText(code, parse)],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        if (!emitted.Success || problems.Count > 0)
        {
            throw new InvalidOperationException("the example does not compile cleanly:\n" + string.Join('\n', problems));
        }

        return AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(image.ToArray()));
    }

    /// <summary>Runs the program's entry point and returns what it wrote to the console (one example at a time).</summary>
    public static string Run(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
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

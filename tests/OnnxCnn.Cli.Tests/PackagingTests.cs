using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Xml.Linq;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>
/// <c>dotnet pack</c> of the four libraries and the <c>onnxcnn</c> tool into a temporary local feed,
/// then <c>dotnet tool install</c> from it into a temporary tool path and <c>onnxcnn info</c> with the
/// installed tool. Sources are copied to a temporary folder first, so the pack never touches this
/// checkout's obj/bin folders (other test projects build there at the same time). A unique
/// prerelease version means a package of the same id and version in the NuGet cache can never stand in.
/// </summary>
public class PackagingTests
{
    private static readonly string[] Libraries = ["OnnxCnn.Runtime", "OnnxCnn.Graphs", "OnnxCnn.Preprocess", "OnnxCnn.Training"];

    private static readonly string[] Sources = ["Runtime", "Graphs", "Preprocess", "Training", "Tools", "build",
        "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "README.md"];

    [Fact]
    public void PackAndToolInstall_FromLocalFeed_InstalledToolRunsInfo()
    {
        using var work = new TempDir();
        var src = work.File("src");
        var feed = work.File("feed");
        var tools = work.File("tools");
        var version = "0.0.0-packtest." + Guid.NewGuid().ToString("N")[..12];
        CopySources(src);
        File.WriteAllText(Path.Combine(src, "pack.slnx"),
            "<Solution>" + string.Concat(new[] { "Runtime/OnnxCnn.Runtime.csproj", "Graphs/OnnxCnn.Graphs.csproj", "Preprocess/OnnxCnn.Preprocess.csproj", "Training/OnnxCnn.Training.csproj", "Tools/OnnxCnn.Cli.csproj" }
                .Select(p => $"<Project Path=\"{p}\" />")) + "</Solution>");

        var rid = RuntimeInformation.RuntimeIdentifier;
        Dotnet(src, "pack", "pack.slnx", "-c", "Release", "-o", feed, "-nodeReuse:false",
            $"-p:Version={version}", "-p:OnnxCnnToolPack=true", $"-p:OnnxCnnToolRids={rid}");

        foreach (var id in Libraries)
        {
            AssertLibraryPackage(Path.Combine(feed, $"{id}.{version}.nupkg"), id);
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), $"{id} has no symbol package");
        }

        AssertRuntimeDependsOnManagedOnly(Path.Combine(feed, $"OnnxCnn.Runtime.{version}.nupkg"));
        AssertToolCarriesOneNativeOrt(Path.Combine(feed, $"onnxcnn.{rid}.{version}.nupkg"), rid);

        Dotnet(work.Path, "tool", "install", "--tool-path", tools, "--add-source", feed, "onnxcnn", "--version", version);
        var (code, stdout, stderr) = Run(Path.Combine(tools, "onnxcnn"), work.Path, "info", RepoPaths.Fixture("tiny_resnet", "model.onnx"), "--json");
        Assert.True(code == 0, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(OnnxCnn.Runtime.OrtEnvironment.Version, doc.RootElement.GetProperty("onnxRuntime").GetString());
        Assert.StartsWith(Path.GetFullPath(tools), doc.RootElement.GetProperty("onnxRuntimeLibrary").GetString());
        Assert.Equal("input", doc.RootElement.GetProperty("inputs")[0].GetProperty("name").GetString());
    }

    private static void AssertLibraryPackage(string nupkg, string id)
    {
        Assert.True(File.Exists(nupkg), $"{nupkg} was not packed");
        using var zip = ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("README.md", names);
        Assert.Contains($"lib/net10.0/{id}.dll", names);
        Assert.Contains($"lib/net10.0/{id}.xml", names);
        var nuspec = Nuspec(zip);
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        var license = metadata.Element(ns + "license")!;
        Assert.Equal("expression", license.Attribute("type")!.Value);
        Assert.Equal("MIT", license.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")!.Value));
    }

    private static void AssertRuntimeDependsOnManagedOnly(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var dependencies = Nuspec(zip).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ToList();
        Assert.Contains("Microsoft.ML.OnnxRuntime.Managed", dependencies);
        // The app chooses its native package (CPU or Gpu.Linux); a library that brought one would make that choice for it.
        Assert.DoesNotContain("Microsoft.ML.OnnxRuntime", dependencies);
        Assert.DoesNotContain("Microsoft.ML.OnnxRuntime.Gpu.Linux", dependencies);
    }

    private static void AssertToolCarriesOneNativeOrt(string nupkg, string rid)
    {
        Assert.True(File.Exists(nupkg), $"{nupkg} was not packed");
        using var zip = ZipFile.OpenRead(nupkg);
        var natives = zip.Entries.Select(e => e.FullName).Where(n => Path.GetFileName(n).StartsWith("libonnxruntime", StringComparison.Ordinal) || Path.GetFileName(n).StartsWith("onnxruntime", StringComparison.Ordinal)).ToList();
        Assert.Contains($"tools/net10.0/{rid}/libonnxruntime.so", natives);
        Assert.DoesNotContain(natives, n => n.EndsWith(".dll", StringComparison.Ordinal) || n.Contains("/runtimes/", StringComparison.Ordinal));
    }

    private static XDocument Nuspec(ZipArchive zip)
    {
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }

    private static void CopySources(string destination)
    {
        foreach (var item in Sources)
        {
            var from = Path.Combine(RepoPaths.Root, item);
            if (File.Exists(from))
            {
                File.Copy(from, Path.Combine(destination, item));
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepoPaths.Root, file);
                var parts = relative.Split(Path.DirectorySeparatorChar);
                if (parts.Any(p => p is "bin" or "obj"))
                {
                    continue;
                }

                var target = Path.Combine(destination, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    private static void Dotnet(string workingDirectory, params string[] args)
    {
        var (code, stdout, stderr) = Run("dotnet", workingDirectory, args);
        Assert.True(code == 0, $"dotnet {string.Join(' ', args)} failed ({code}):\n{stdout}\n{stderr}");
    }

    private static (int Code, string Out, string Err) Run(string program, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        // The test host's own MSBuild settings must not leak into the child build.
        info.Environment.Remove("MSBuildSDKsPath");
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBUILD_EXE_PATH");
        using var p = Process.Start(info)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, outTask.Result, errTask.Result);
    }
}

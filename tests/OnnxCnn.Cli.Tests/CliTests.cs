using System.Text.Json;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class CliTests
{
    private static string TinyModel => RepoPaths.Fixture("tiny_resnet", "model.onnx");

    private static string TinyInput => RepoPaths.Fixture("tiny_resnet", "input.npy");

    [Fact]
    public void Info_Json_ListsInputsWithSymbolicBatch()
    {
        var (code, stdout, stderr) = Cli.Run("info", TinyModel, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var input = doc.RootElement.GetProperty("inputs")[0];
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("float32", input.GetProperty("type").GetString());
        Assert.Equal("batch", input.GetProperty("shape")[0].GetString());
        Assert.Equal(32, input.GetProperty("shape")[3].GetInt32());
        Assert.Equal("logits", doc.RootElement.GetProperty("outputs")[0].GetProperty("name").GetString());
        Assert.Equal(OrtEnvironment.Version, doc.RootElement.GetProperty("onnxRuntime").GetString());
    }

    [Fact]
    public void Info_Table_ShowsNames()
    {
        var (code, stdout, _) = Cli.Run("info", TinyModel);
        Assert.Equal(0, code);
        Assert.Contains("input", stdout);
        Assert.Contains("[batch,3,32,32]", stdout);
    }

    [Fact]
    public void Infer_TinyResNet_WritesLogitsMatchingPyTorch()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var (code, _, stderr) = Cli.Run("infer", TinyModel, "--input", "input=" + TinyInput, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Equal(["logits.npy"], Directory.GetFiles(outDir).Select(Path.GetFileName));
        using var ours = Npy.Read(Path.Combine(outDir, "logits.npy"));
        using var torch = Npy.Read(RepoPaths.Fixture("tiny_resnet", "logits.npy"));
        var a = ours.As<float>().ToArray();
        var b = torch.As<float>().ToArray();
        var scale = b.Max(Math.Abs);
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * scale));
    }

    [Fact]
    public void Infer_OutputNamesWithOddCharacters_AreSanitised()
    {
        using var dir = new TempDir();
        var model = new ModelBuilder()
            .Input("x", OnnxCnn.Graphs.Proto.TensorProto.Types.DataType.Float, 2)
            .Node("Relu", ["x"], ["out/relu:0"])
            .Output("out/relu:0", OnnxCnn.Graphs.Proto.TensorProto.Types.DataType.Float, 2)
            .Save(dir.File("m.onnx"));
        using (var t = Tensor<float>.FromSpan([-1, 2], 2))
        {
            Npy.Write(dir.File("x.npy"), t);
        }

        var (code, _, stderr) = Cli.Run("infer", model, "--input", dir.File("x.npy"), "--out", dir.File("o"));
        Assert.True(code == 0, stderr);
        using var y = Npy.Read(Path.Combine(dir.File("o"), "out_relu_0.npy"));
        Assert.Equal([0f, 2], y.As<float>().ToArray());
    }

    [Fact]
    public void Infer_WrongShape_OneLineErrorAndNothingWritten()
    {
        using var dir = new TempDir();
        using (var bad = Tensor<float>.Create(1, 3, 30, 32))
        {
            Npy.Write(dir.File("bad.npy"), bad);
        }

        var outDir = dir.File("out");
        var (code, stdout, stderr) = Cli.Run("infer", TinyModel, "--input", "input=" + dir.File("bad.npy"), "--out", outDir);
        Assert.Equal(2, code);
        Assert.Equal("error: input 'input' expects shape [batch,3,32,32], got [1,3,30,32].\n", stderr.ReplaceLineEndings("\n"));
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Infer_UnknownInputName_IsUsageError()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli.Run("infer", TinyModel, "--input", "image=" + TinyInput, "--out", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Equal("error: --input 'image=" + TinyInput + "': the model has no input 'image'; its inputs are: input.", stderr.Trim());
    }

    [Fact]
    public void Infer_MissingNpy_NamesFile()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli.Run("infer", TinyModel, "--input", "/nonexistent/x.npy", "--out", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Equal("error: npy file '/nonexistent/x.npy' not found.", stderr.Trim());
        Assert.False(Directory.Exists(dir.File("o")));
    }

    [Fact]
    public void Infer_MissingModel_NamesFile_VerboseAddsStack()
    {
        var (code, _, stderr) = Cli.Run("infer", "/nonexistent/m.onnx", "--input", "x.npy", "--out", "/tmp/never");
        Assert.Equal(2, code);
        Assert.Equal("error: model file '/nonexistent/m.onnx' not found.", stderr.Trim());
        Assert.Single(stderr.Trim().Split('\n'));

        var verbose = Cli.Run("infer", "/nonexistent/m.onnx", "--input", "x.npy", "--out", "/tmp/never", "--verbose");
        Assert.Equal(2, verbose.Code);
        Assert.Contains("   at ", verbose.Err);
    }

    [Fact]
    public void Infer_CorruptModel_OneLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.onnx"), "not a model at all");
        var (code, _, stderr) = Cli.Run("info", dir.File("m.onnx"));
        Assert.Equal(2, code);
        Assert.StartsWith($"error: cannot load model '{dir.File("m.onnx")}':", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Infer_DeviceCudaOnTheCpuPackage_OneLineNamingTheCudaBuild()
    {
        if (OrtEnvironment.AvailableProviders.Contains("CUDAExecutionProvider"))
        {
            return; // the cuda flavour: Runtime.Tests' Cuda_OnTheCudaPackage_LoadsOrNamesTheMissingLibrary covers it
        }

        using var dir = new TempDir();
        var (code, stdout, stderr) = Cli.Run("infer", TinyModel, "--input", TinyInput, "--out", dir.File("o"), "--device", "cuda");
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: CUDA execution provider (device cuda) could not be loaded: this ONNX Runtime build (", line);
        Assert.Contains("has no CUDA execution provider", line);
        Assert.Contains("-p:OnnxCnnOrt=cuda", line);
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(dir.File("o")));
    }

    [Fact]
    public void Infer_DeviceAutoWithoutCuda_RunsOnCpuWithOneNotice()
    {
        if (OrtEnvironment.AvailableProviders.Contains("CUDAExecutionProvider"))
        {
            return; // auto may pick CUDA there
        }

        using var dir = new TempDir();
        var (code, stdout, stderr) = Cli.RunProcess(new Dictionary<string, string>(), "infer", TinyModel, "--input", TinyInput, "--out", dir.File("o"), "--device", "auto");
        Assert.True(code == 0, stderr + stdout);
        var notice = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("notice: CUDA is not available (this ONNX Runtime build (", notice);
        Assert.EndsWith("; running on CPU.", notice);
        Assert.True(Directory.Exists(dir.File("o")));
    }

    [Fact]
    public void Infer_BadDevice_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("infer", TinyModel, "--input", TinyInput, "--out", "/tmp/never", "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Equal("error: --device: device 'tpu' is not one of cpu, cuda, cuda:N, auto.", stderr.Trim());
    }

    [Fact]
    public void Bench_Json_HasThroughputAndPercentiles()
    {
        var (code, stdout, stderr) = Cli.Run("bench", "infer", TinyModel, "--batch", "2", "--iterations", "3", "--warmup", "1", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("imagesPerSecond").GetDouble() > 0);
        var latency = doc.RootElement.GetProperty("latencyMs");
        Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p90").GetDouble());
    }

    [Fact]
    public void Bench_InputSizeOnFixedModel_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("bench", "infer", TinyModel, "--input-size", "64x64", "--iterations", "1");
        Assert.Equal(2, code);
        Assert.Equal("error: --input-size 64x64 does not fit input 'input' of fixed shape [batch,3,32,32].", stderr.Trim());
    }

    [Fact]
    public void Bench_BadInputSize_IsUsageError()
    {
        var (code, _, stderr) = Cli.Run("bench", "infer", TinyModel, "--input-size", "big");
        Assert.Equal(2, code);
        Assert.Equal("error: --input-size 'big' is not HxW (e.g. 224x224).", stderr.Trim());
    }

    [Fact]
    public void Parse_UnknownOption_OneLineUsageError()
    {
        var (code, _, stderr) = Cli.Run("info", TinyModel, "--colour");
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", stderr);
        Assert.Contains("--colour", stderr);
        Assert.EndsWith("(see 'onnxcnn info --help')", stderr.Trim());
    }

    [Fact]
    public void Parse_UnknownCommand_NamesIt()
    {
        var (code, _, stderr) = Cli.Run("nosuch");
        Assert.Equal(2, code);
        Assert.Equal("error: Unrecognized command or argument 'nosuch'. (see 'onnxcnn --help')", stderr.Trim());
    }

    [Fact]
    public void NoArguments_PrintsHelp()
    {
        var (code, stdout, _) = Cli.Run();
        Assert.Equal(0, code);
        Assert.Contains("infer <MODEL>", stdout);
    }

    [Fact]
    public void Demo_Runs_AndMatchesPyTorch()
    {
        var (code, stdout, stderr) = Cli.Run("demo");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("matches PyTorch", stdout);
    }

    [Fact]
    public void OrtLibraryVariable_PointingNowhere_IsOneLineError()
    {
        var (code, _, stderr) = Cli.RunProcess(new Dictionary<string, string> { ["ONNXCNN_ORT_LIBRARY"] = "/nonexistent/libonnxruntime.so" }, "info", TinyModel);
        Assert.Equal(1, code);
        Assert.Equal("error: ONNXCNN_ORT_LIBRARY is set to '/nonexistent/libonnxruntime.so', but no file is there.", stderr.Trim());
    }

    [Fact]
    public void OrtLibraryVariable_NotOrt_IsOneLineError()
    {
        var (code, _, stderr) = Cli.RunProcess(new Dictionary<string, string> { ["ONNXCNN_ORT_LIBRARY"] = "/usr/lib/x86_64-linux-gnu/libc.so.6" }, "info", TinyModel);
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: '/usr/lib/x86_64-linux-gnu/libc.so.6' (from ONNXCNN_ORT_LIBRARY) is not an ONNX Runtime library this version can use: ", line);
    }

    [Fact]
    public void OrtLibraryVariable_CopyOfTheNuGetLibrary_IsTheOneLoaded()
    {
        using var dir = new TempDir();
        var copy = dir.File("libonnxruntime.so");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so"), copy);
        var (code, stdout, stderr) = Cli.RunProcess(new Dictionary<string, string> { ["ONNXCNN_ORT_LIBRARY"] = copy }, "info", TinyModel, "--json");
        Assert.True(code == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(copy, doc.RootElement.GetProperty("onnxRuntimeLibrary").GetString());
        Assert.Equal(OrtEnvironment.Version, doc.RootElement.GetProperty("onnxRuntime").GetString());
    }

    [Fact]
    public void Info_Json_NamesTheLoadedLibraryAndProviders()
    {
        var (code, stdout, stderr) = Cli.RunProcess(new Dictionary<string, string>(), "info", TinyModel, "--json");
        Assert.True(code == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so"), doc.RootElement.GetProperty("onnxRuntimeLibrary").GetString());
        Assert.Contains("CPUExecutionProvider", doc.RootElement.GetProperty("executionProviders").EnumerateArray().Select(e => e.GetString()));
    }
}

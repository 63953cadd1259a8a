using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

public class SessionTests
{
    [Fact]
    public void Metadata_SymbolicBatch_IsReportedWithItsName()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        var input = Assert.Single(session.Inputs);
        Assert.Equal("image", input.Name);
        Assert.Equal(TensorElementType.Float32, input.ElementType);
        Assert.Equal([-1L, 3, 16, 16], input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal("[batch,3,16,16]", input.ShapeText);
        Assert.Equal("[batch,5]", Assert.Single(session.Outputs).ShapeText);
    }

    [Fact]
    public void Metadata_CustomProps_AreRead()
    {
        var bytes = new ModelBuilder()
            .Input("X", TensorProto.Types.DataType.Float, 2)
            .Node("Relu", ["X"], ["Y"])
            .Output("Y", TensorProto.Types.DataType.Float, 2)
            .Metadata("labels", "cat\ndog")
            .ToBytes();
        using var session = InferenceSession.FromBytes(bytes);
        Assert.Equal("cat\ndog", session.Metadata.Custom["labels"]);
        Assert.Equal("onnxcnn-tests", session.Metadata.ProducerName);
    }

    [Fact]
    public void Run_AddSelf_DoublesInput()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var x = Tensor<float>.FromSpan([1, 2, 3, 4, 5, 6], 2, 3);
        using var result = session.Run(x);
        var y = result.First<float>();
        Assert.Equal([2L, 3], y.Shape);
        Assert.Equal([2f, 4, 6, 8, 10, 12], y.ToArray());
        Assert.Same(y, result["Y"]);
    }

    [Fact]
    public void Run_FromFile_SameAsFromBytes()
    {
        using var dir = new TempDir();
        var path = dir.File("cnn.onnx");
        File.WriteAllBytes(path, Models.SmallCnn());
        using var a = InferenceSession.Open(path);
        using var b = InferenceSession.FromBytes(Models.SmallCnn());
        using var x = RandomImage(2, seed: 3);
        using var ra = a.Run(x);
        using var rb = b.Run(x);
        Assert.Equal(rb.First<float>().ToArray(), ra.First<float>().ToArray());
        Assert.Equal(path, a.ModelPath);
    }

    [Fact]
    public void RunInto_PreallocatedOutput_IsWrittenInPlace()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var x = Tensor<float>.FromSpan([1, 2, 3], 1, 3);
        var backing = new float[3];
        using var y = Tensor<float>.Wrap(backing, 1, 3);
        session.RunInto([new("X", x)], [new("Y", y)]);
        Assert.Equal([2f, 4, 6], backing);
        x.Span[0] = 10;
        session.RunInto([new("X", x)], [new("Y", y)]);
        Assert.Equal(20f, backing[0]);
    }

    [Fact]
    public void Run_WrongInputName_NamesTheInputs()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var x = RandomImage(1);
        var e = Assert.Throws<ArgumentException>(() => session.Run([new("img", x)]));
        Assert.Equal("model has no input 'img'; its inputs are: image.", e.Message);
    }

    [Fact]
    public void Run_WrongShape_NamesInputAndExpectedShape()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var x = Tensor<float>.Create(1, 3, 20, 16);
        var e = Assert.Throws<ArgumentException>(() => session.Run(x));
        Assert.Equal("input 'image' expects shape [batch,3,16,16], got [1,3,20,16].", e.Message);
    }

    [Fact]
    public void Run_WrongRank_NamesInputAndExpectedShape()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var x = Tensor<float>.Create(3, 16, 16);
        var e = Assert.Throws<ArgumentException>(() => session.Run(x));
        Assert.Equal("input 'image' expects shape [batch,3,16,16], got [3,16,16].", e.Message);
    }

    [Fact]
    public void Run_WrongType_NamesInputAndExpectedType()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var x = Tensor<long>.Create(1, 3, 16, 16);
        var e = Assert.Throws<ArgumentException>(() => session.Run(x));
        Assert.Equal("input 'image' expects float32[batch,3,16,16], got int64[1,3,16,16].", e.Message);
    }

    [Fact]
    public void Run_MissingInput_IsNamed()
    {
        var bytes = new ModelBuilder()
            .Input("A", TensorProto.Types.DataType.Float, 2)
            .Input("B", TensorProto.Types.DataType.Float, 2)
            .Node("Add", ["A", "B"], ["C"])
            .Output("C", TensorProto.Types.DataType.Float, 2)
            .ToBytes();
        using var session = InferenceSession.FromBytes(bytes);
        using var a = Tensor<float>.Create(2);
        var e = Assert.Throws<ArgumentException>(() => session.Run([new("A", a)]));
        Assert.Equal("input 'B' (float32[2]) is missing.", e.Message);
    }

    [Fact]
    public void Run_UnknownOutputName_ListsOutputs()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var x = Tensor<float>.Create(1, 3);
        var e = Assert.Throws<ArgumentException>(() => session.Run([new("X", x)], ["Z"]));
        Assert.Equal("model has no output 'Z'; its outputs are: Y.", e.Message);
    }

    [Fact]
    public void Open_MissingFile_NamesTheFile()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.Open("/nonexistent/model.onnx"));
        Assert.Equal(OrtErrorCode.NoSuchFile, e.Code);
        Assert.Equal("model file '/nonexistent/model.onnx' not found.", e.Message);
    }

    [Fact]
    public void FromBytes_CorruptModel_IsOrtErrorNotCrash()
    {
        var bytes = Models.SmallCnn();
        var e = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.FromBytes(bytes.AsSpan(0, bytes.Length / 2)));
        Assert.StartsWith("cannot load model from bytes:", e.Message);
        Assert.Throws<OnnxRuntimeException>(() => InferenceSession.FromBytes("this is not a model"u8));
    }

    [Fact]
    public void Open_CorruptFile_NamesTheFile()
    {
        using var dir = new TempDir();
        var path = dir.File("garbage.onnx");
        File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF, 0x01, 0x02]);
        var e = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.Open(path));
        Assert.StartsWith($"cannot load model '{path}':", e.Message);
    }

    [Fact]
    public void Options_AllSettings_AreAcceptedByOrt()
    {
        using var dir = new TempDir();
        var options = new SessionOptions
        {
            IntraOpThreads = 1,
            InterOpThreads = 1,
            OptimizationLevel = GraphOptimizationLevel.Extended,
            ExecutionMode = ExecutionMode.Parallel,
            MemoryPattern = false,
            CpuMemoryArena = false,
            LogLevel = OrtLogLevel.Error,
            OptimizedModelPath = dir.File("optimized.onnx"),
        };
        options.ConfigEntries["session.set_denormal_as_zero"] = "1";
        using var session = InferenceSession.FromBytes(Models.SmallCnn(), options);
        using var x = RandomImage(1);
        using var result = session.Run(x);
        Assert.True(File.Exists(dir.File("optimized.onnx")));
    }

    [Fact]
    public void Options_ProfilingPrefix_WritesPerNodeTraceOnDispose()
    {
        using var dir = new TempDir();
        var options = new SessionOptions { ProfilingPrefix = dir.File("trace") };
        var copy = options.Clone();
        copy.ConfigEntries["x"] = "y";
        Assert.Empty(options.ConfigEntries);
        using (var session = InferenceSession.FromBytes(Models.SmallCnn(), options))
        {
            using var x = RandomImage(1);
            using var result = session.Run(x);
        }

        var file = Assert.Single(Directory.GetFiles(dir.Path, "trace_*.json"));
        using var trace = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
        var kernels = trace.RootElement.EnumerateArray()
            .Where(ev => ev.TryGetProperty("cat", out var cat) && cat.GetString() == "Node")
            .Select(ev => ev.GetProperty("name").GetString()!).ToList();
        Assert.Contains(kernels, k => k.EndsWith("_kernel_time", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_NegativeThreads_AreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => InferenceSession.FromBytes(Models.AddSelf(), new SessionOptions { IntraOpThreads = -1 }));
        Assert.Contains("thread counts must be >= 0", e.Message);
    }

    [Fact]
    public void Options_DisableCpuFallback_IsPassedToOrt()
    {
        // On a CPU-only session every node is "assigned to the CPU fallback", so ORT refuses the
        // session: proof that the config entry reaches ORT (training on CUDA relies on it).
        var options = new SessionOptions();
        options.ConfigEntries[SessionOptions.DisableCpuFallbackKey] = "1";
        var e = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.FromBytes(Models.AddSelf(), options));
        Assert.Contains("fallback to CPU EP has been explicitly disabled", e.Message);
    }

    internal static Tensor<float> RandomImage(int batch, int seed = 1)
    {
        var random = new Random(seed);
        var t = Tensor<float>.Create(batch, 3, 16, 16);
        foreach (ref var v in t.Span)
        {
            v = random.NextSingle();
        }

        return t;
    }
}

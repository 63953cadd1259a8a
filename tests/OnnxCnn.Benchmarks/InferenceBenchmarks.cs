using BenchmarkDotNet.Attributes;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Benchmarks;

/// <summary>
/// OnnxCnn's own overhead over ONNX Runtime's C# API: tensor creation over pooled pinned memory,
/// and a run of a small CNN (where per-call overhead shows) through OnnxCnn (ORT-allocated or
/// preallocated outputs) and through ORT's own API with the same options. Whole-model throughput
/// is <c>onnxcnn bench infer --compare-ort</c>.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private InferenceSession session = null!;
    private Tensor<float> input = null!;
    private Tensor<float> output = null!;
    private KeyValuePair<string, Tensor>[] inputs = null!;
    private KeyValuePair<string, Tensor>[] outputs = null!;
    private Ort.InferenceSession ortSession = null!;
    private Ort.RunOptions ortRunOptions = null!;
    private Ort.OrtValue ortInput = null!;
    private float[] ortInputData = null!;
    private readonly string[] ortInputNames = ["image"];
    private readonly string[] ortOutputNames = ["logits"];

    [GlobalSetup]
    public void Setup()
    {
        session = InferenceSession.FromBytes(Models.SmallCnn(), new SessionOptions { IntraOpThreads = 1 });
        input = Tensor<float>.Filled(0.5f, 8, 3, 16, 16);
        output = Tensor<float>.Create(8, 5);
        inputs = [new("image", input)];
        outputs = [new("logits", output)];
        var (options, _) = new SessionOptions { IntraOpThreads = 1 }.ToOrtOptions();
        using (options)
        {
            ortSession = new Ort.InferenceSession(Models.SmallCnn(), options);
        }

        ortRunOptions = new Ort.RunOptions();
        ortInputData = [.. input.Span];
        ortInput = Ort.OrtValue.CreateTensorValueFromMemory(ortInputData, [8, 3, 16, 16]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        input.Dispose();
        output.Dispose();
        session.Dispose();
        ortInput.Dispose();
        ortRunOptions.Dispose();
        ortSession.Dispose();
    }

    [Benchmark]
    public int CreateAndDisposeImageTensor()
    {
        using var t = Tensor<float>.Create(8, 3, 224, 224);
        return t.Span.Length;
    }

    [Benchmark(Baseline = true)]
    public float RunOrtAllocatedOutputs()
    {
        using var r = session.Run(inputs);
        return r.First<float>()[0];
    }

    [Benchmark]
    public float RunPreallocatedOutputs()
    {
        session.RunInto(inputs, outputs);
        return output[0];
    }

    [Benchmark]
    public float RunOrtCSharpApi()
    {
        using var r = ortSession.Run(ortRunOptions, ortInputNames, [ortInput], ortOutputNames);
        return r[0].GetTensorDataAsSpan<float>()[0];
    }
}

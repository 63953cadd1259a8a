using BenchmarkDotNet.Attributes;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Benchmarks;

/// <summary>
/// The binding's own overhead: tensor creation over pooled pinned memory, and a run of a small
/// CNN (where per-call overhead shows) allocated by ORT vs written into preallocated outputs.
/// Whole-model throughput against ONNX Runtime's Node binding is compare-node.sh.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private InferenceSession session = null!;
    private Tensor<float> input = null!;
    private Tensor<float> output = null!;
    private KeyValuePair<string, Tensor>[] inputs = null!;
    private KeyValuePair<string, Tensor>[] outputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        session = InferenceSession.FromBytes(Models.SmallCnn(), new SessionOptions { IntraOpThreads = 1 });
        input = Tensor<float>.Filled(0.5f, 8, 3, 16, 16);
        output = Tensor<float>.Create(8, 5);
        inputs = [new("image", input)];
        outputs = [new("logits", output)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        input.Dispose();
        output.Dispose();
        session.Dispose();
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
}

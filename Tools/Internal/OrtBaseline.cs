using System.Diagnostics;
using OnnxCnn.Runtime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The same model run through ONNX Runtime's own C# API, as an ORT user writes it: a plain
/// <see cref="Ort.InferenceSession"/> with the same session options, inputs as OrtValues over
/// pinned arrays, <c>Run(RunOptions, names, values, outputNames)</c> with ORT-allocated outputs.
/// It is what <c>bench infer --compare-ort</c> holds OnnxCnn's session against.
/// </summary>
internal sealed class OrtBaseline : IDisposable
{
    private readonly Ort.InferenceSession session;
    private readonly Ort.RunOptions runOptions = new();
    private readonly string[] inputNames;
    private readonly Ort.OrtValue[] inputValues;
    private readonly List<byte[]> buffers = [];
    private readonly string[] outputNames;

    public OrtBaseline(string model, SessionOptions options, IReadOnlyList<KeyValuePair<string, Tensor>> inputs)
    {
        var (ortOptions, _) = options.ToOrtOptions();
        using (ortOptions)
        {
            session = new Ort.InferenceSession(model, ortOptions);
        }

        inputNames = [.. inputs.Select(i => i.Key)];
        // Copies of the inputs in arrays of ORT's own making, so no OnnxCnn memory is involved.
        inputValues = [.. inputs.Select(i => Copy(i.Value))];
        outputNames = [.. session.OutputNames];
    }

    /// <summary>One run; the outputs are released right away, as the OnnxCnn side does.</summary>
    public void Run()
    {
        using var outputs = session.Run(runOptions, inputNames, inputValues, outputNames);
    }

    /// <summary>Milliseconds of each of <paramref name="runs"/> timed runs.</summary>
    public static double[] Time(Action run, int runs)
    {
        var latencies = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return latencies;
    }

    private Ort.OrtValue Copy(Tensor tensor)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)tensor.ByteLength), pinned: true);
        tensor.Bytes.CopyTo(bytes);
        buffers.Add(bytes); // pinned arrays do not move, but they must stay referenced
        var address = System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(bytes, 0);
        return Ort.OrtValue.CreateTensorValueWithData(
            Ort.OrtMemoryInfo.DefaultInstance, (Ort.Tensors.TensorElementType)tensor.ElementType, [.. tensor.Shape], address, bytes.Length);
    }

    public void Dispose()
    {
        foreach (var v in inputValues)
        {
            v.Dispose();
        }

        runOptions.Dispose();
        session.Dispose();
    }
}

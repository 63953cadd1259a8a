using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Copies the carried training tensors between host and device memory through a session of
/// Identity nodes (one per tensor) run with IO binding: ORT moves each bound input to where the
/// Identity runs and each result to where its output is bound, with the execution provider's own
/// copies, so no CUDA API is called here. Used only when the carried tensors live on a device
/// (checkpoints, <see cref="TrainingSession.Parameter"/>, export), never per step.
/// </summary>
internal sealed class StateTransfer : IDisposable
{
    private readonly InferenceSession session;
    private readonly IoBinding binding;
    private readonly int count;

    public StateTransfer(IReadOnlyList<long[]> shapes, SessionOptions? options)
    {
        count = shapes.Count;
        var copy = options?.Clone() ?? new SessionOptions();
        // Identity elimination could turn an input-to-output Identity into nothing to run; keep the graph as written.
        copy.OptimizationLevel = GraphOptimizationLevel.None;
        copy.ProfilingPrefix = null;
        copy.OptimizedModelPath = null;
        session = InferenceSession.FromBytes(Model(shapes).ToBytes(), copy);
        binding = session.CreateIoBinding();
    }

    /// <summary>The device the copies run on (resolves <c>auto</c>).</summary>
    public ExecutionDevice Device => session.Device;

    /// <summary>Copies every <paramref name="from"/>[i] into <paramref name="to"/>[i] (same shapes; any device).</summary>
    public void Copy(IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to)
    {
        if (from.Count != count || to.Count != count)
        {
            throw new ArgumentException($"the transfer copies {count} tensors; got {from.Count} sources and {to.Count} destinations.");
        }

        for (var i = 0; i < count; i++)
        {
            binding.BindInput(InputName(i), from[i]);
            binding.BindOutput(OutputName(i), to[i]);
        }

        try
        {
            binding.Run();
            binding.SynchronizeOutputs();
        }
        finally
        {
            binding.ClearInputs();
            binding.ClearOutputs();
        }
    }

    private static string InputName(int i) => "in" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string OutputName(int i) => "out" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static OnnxModel Model(IReadOnlyList<long[]> shapes)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "onnxcnn", Graph = new GraphProto { Name = "state_transfer" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        for (var i = 0; i < shapes.Count; i++)
        {
            var shape = new TensorShape((int)TensorProto.Types.DataType.Float, shapes[i].Select(Dim.Of).ToArray());
            model.Graph.Input.Add(ShapeInference.ToValueInfo(InputName(i), shape));
            model.Graph.Output.Add(ShapeInference.ToValueInfo(OutputName(i), shape));
            var node = new NodeProto { OpType = "Identity", Name = "copy" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            node.Input.Add(InputName(i));
            node.Output.Add(OutputName(i));
            model.Graph.Node.Add(node);
        }

        return new OnnxModel(model);
    }

    public void Dispose()
    {
        binding.Dispose();
        session.Dispose();
    }
}

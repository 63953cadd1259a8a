using Google.Protobuf;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>What <see cref="Reinitializer.Reinitialize"/> did.</summary>
/// <param name="Tensors">Parameter tensors given fresh values.</param>
/// <param name="Elements">Their total number of elements.</param>
/// <param name="Untouched">Float parameters of other operators, left as they were.</param>
public sealed record ReinitReport(int Tensors, long Elements, IReadOnlyList<string> Untouched);

/// <summary>
/// Re-initialises parameters as fresh PyTorch modules would (for from-scratch baselines):
/// Conv/ConvTranspose/Gemm/MatMul weights and biases with the layers' default
/// kaiming_uniform(a=√5), i.e. U(±1/√fan_in); BatchNormalization to identity statistics
/// (scale 1, bias 0, mean 0, variance 1). Shared tensors are re-initialised once.
/// </summary>
public static class Reinitializer
{
    /// <summary>Returns a re-initialised copy of the model.</summary>
    public static (OnnxModel Model, ReinitReport Report) Reinitialize(OnnxModel model, int seed)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var init = new SeededInit(seed);
        var done = new HashSet<TensorProto>(ReferenceEqualityComparer.Instance);
        var untouched = new List<string>();
        long elements = 0;
        foreach (var node in graph.TopologicalOrder())
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (!Parameters.IsParameter(node, i, graph, out var count) || graph.ConstantOf(node.Input[i]) is not { } tensor || !done.Add(tensor))
                {
                    continue;
                }

                if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
                {
                    untouched.Add(graph.ConstantSource(node.Input[i]));
                    continue;
                }

                var values = FreshValues(node, i, tensor, graph, init);
                if (values is null)
                {
                    untouched.Add(graph.ConstantSource(node.Input[i]));
                    continue;
                }

                tensor.ClearRawData();
                tensor.FloatData.Clear();
                tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                elements += count;
            }
        }

        return (GraphEdits.Finish(result), new ReinitReport(done.Count - untouched.Count, elements, untouched));
    }

    private static float[]? FreshValues(NodeProto node, int index, TensorProto tensor, OnnxGraph graph, SeededInit init)
    {
        var count = Tensors.Count(tensor);
        switch (node.OpType)
        {
            case "Conv":
                return init.TorchDefault(count, FanIn(graph.ConstantOf(node.Input[1])!, conv: true));
            case "ConvTranspose":
                // PyTorch computes ConvTranspose's fan_in from weight dim 1 (out/groups) × kernel.
                var w = graph.ConstantOf(node.Input[1])!;
                return init.TorchDefault(count, w.Dims.Skip(1).Aggregate(1L, (a, b) => a * b));
            case "Gemm":
                var gw = graph.ConstantOf(node.Input[1])!;
                var fanIn = Attr.Int(node, "transB", 0) != 0 ? gw.Dims[^1] : gw.Dims[0];
                return init.TorchDefault(count, fanIn);
            case "MatMul" when index == 1 && tensor.Dims.Count == 2:
                return init.TorchDefault(count, tensor.Dims[0]);
            case "Add" when BiasOfMatMul(node, graph) is { } weight:
                return init.TorchDefault(count, weight.Dims[0]);
            case "BatchNormalization":
                var value = index is 1 or 4 ? 1f : 0f;
                return Enumerable.Repeat(value, (int)count).ToArray();
            default:
                return null;
        }
    }

    private static long FanIn(TensorProto weight, bool conv) =>
        conv ? weight.Dims.Skip(1).Aggregate(1L, (a, b) => a * b) : weight.Dims[^1];

    private static TensorProto? BiasOfMatMul(NodeProto add, OnnxGraph graph)
    {
        foreach (var input in add.Input)
        {
            if (graph.Producer(input) is { OpType: "MatMul" } matmul && graph.ConstantOf(matmul.Input[1]) is { Dims.Count: 2 } w)
            {
                return w;
            }
        }

        return null;
    }
}

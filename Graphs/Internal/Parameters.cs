using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>The parameter-counting convention of <see cref="ModelSummary"/>, per node.</summary>
internal static class Parameters
{
    /// <summary>Inputs that are never parameters, by operator (shapes, pads, scales, bounds, ratios).</summary>
    private static readonly Dictionary<string, int[]> NonWeightInputs = new(StringComparer.Ordinal)
    {
        ["Reshape"] = [1], ["Expand"] = [1], ["Tile"] = [1], ["Slice"] = [1, 2, 3, 4], ["Pad"] = [1, 2, 3],
        ["Resize"] = [1, 2, 3], ["Upsample"] = [1], ["Clip"] = [1, 2], ["Dropout"] = [1, 2], ["Squeeze"] = [1],
        ["Unsqueeze"] = [1], ["ReduceMean"] = [1], ["ReduceSum"] = [1], ["ReduceMax"] = [1], ["Split"] = [1],
        ["ConstantOfShape"] = [0], ["OneHot"] = [1, 2], ["Gather"] = [1], ["Range"] = [0, 1, 2], ["TopK"] = [1],
    };

    /// <summary>True when input <paramref name="index"/> of a node is a trainable-or-not parameter, with its element count.</summary>
    public static bool IsParameter(NodeProto node, int index, OnnxGraph graph, out long count)
    {
        count = 0;
        var name = node.Input[index];
        // Identity only re-exposes a constant; the nodes that read the Identity use the parameter.
        if (name.Length == 0 || node.OpType == "Identity" || (NonWeightInputs.TryGetValue(node.OpType, out var skip) && skip.Contains(index)))
        {
            return false;
        }

        var tensor = graph.ConstantOf(name);
        if (tensor is null || tensor.DataType is not ((int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Double
            or (int)TensorProto.Types.DataType.Float16 or (int)TensorProto.Types.DataType.Bfloat16))
        {
            return false;
        }

        count = tensor.Dims.Aggregate(1L, (a, b) => a * b);
        return count > 1 || node.OpType is "Conv" or "ConvTranspose" or "Gemm" or "MatMul" or "BatchNormalization";
    }

    /// <summary>True for BatchNormalization's moving mean and variance.</summary>
    public static bool IsNonTrainable(NodeProto node, int index) => node.OpType == "BatchNormalization" && index is 3 or 4;

    /// <summary>(all, trainable) parameters a node reads.</summary>
    public static (long Total, long Trainable) OfNode(NodeProto node, OnnxGraph graph)
    {
        long total = 0, trainable = 0;
        for (var i = 0; i < node.Input.Count; i++)
        {
            if (IsParameter(node, i, graph, out var n))
            {
                total += n;
                if (!IsNonTrainable(node, i))
                {
                    trainable += n;
                }
            }
        }

        return (total, trainable);
    }
}

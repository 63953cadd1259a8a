using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>
/// Raises a model's ai.onnx opset (to 17 by default), rewriting the operators whose signature
/// changed on the way for the CNN operator set: Clip (bounds as inputs, 11), Slice (ranges as
/// inputs, 10), Pad (pads as inputs, 11), Squeeze/Unsqueeze/Split (axes/split as inputs, 13),
/// ReduceSum (axes as input, 13), Dropout (ratio as input, 12), Upsample (→ Resize, 10/11), and
/// Softmax/LogSoftmax on rank > 2 inputs (axis semantics, 13). Any other operator whose meaning
/// changed in between is refused by name rather than silently reinterpreted.
/// </summary>
public static class OpsetUpgrade
{
    private static readonly HashSet<string> Unchanged = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm", "MatMul", "Add", "Sub",
        "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Flatten", "Reshape", "Transpose", "Concat",
        "BatchNormalization", "Identity", "Constant", "Shape", "Gather", "Cast", "Sum", "Max", "Min", "Mean", "Exp", "Log", "Sqrt",
        "Neg", "Abs", "Pow", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "Equal", "Greater", "Less", "Where", "Expand",
        "Tile", "ConstantOfShape", "Erf", "Elu", "Selu", "PRelu", "Softplus", "InstanceNormalization", "LRN", "Not", "And", "Or",
        "Reciprocal", "Floor", "Ceil", "Resize", "Range", "ArgMax", "ArgMin",
    };

    /// <summary>Returns the model at <paramref name="target"/> (a copy; the input is unchanged). A model already there is copied as is.</summary>
    public static OnnxModel Upgrade(OnnxModel model, long target = 17)
    {
        var result = model.Clone();
        var from = model.Opset;
        if (from >= target)
        {
            return result;
        }

        var graph = new OnnxGraph(result.Graph);
        var shapes = ShapeInference.Infer(model);
        var nodes = result.Graph.Node.ToList();
        result.Graph.Node.Clear();
        foreach (var node in nodes)
        {
            foreach (var rewritten in Rewrite(node, from, graph, shapes, result.Graph))
            {
                result.Graph.Node.Add(rewritten);
            }
        }

        foreach (var opset in result.Proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx"))
        {
            opset.Version = target;
        }

        if (result.Proto.IrVersion < 8)
        {
            result.Proto.IrVersion = 8;
        }

        return GraphEdits.Finish(result);
    }

    private static IEnumerable<NodeProto> Rewrite(NodeProto node, long from, OnnxGraph graph, ShapeInferenceResult shapes, GraphProto g)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            yield return node;
            yield break;
        }

        string Const(string hint, long[] values)
        {
            var name = graph.UniqueName($"{node.Name}_{hint}");
            g.Initializer.Add(Tensors.Int64(name, values, values.Length));
            graph.Invalidate();
            return name;
        }

        string ConstF(string hint, float value)
        {
            var name = graph.UniqueName($"{node.Name}_{hint}");
            g.Initializer.Add(Tensors.Float(name, [value]));
            graph.Invalidate();
            return name;
        }

        void MoveToInputs(params (string Attribute, Func<string> Make)[] moves)
        {
            foreach (var (attribute, make) in moves)
            {
                var present = node.Attribute.FirstOrDefault(a => a.Name == attribute);
                node.Input.Add(present is null ? "" : make());
                if (present is not null)
                {
                    node.Attribute.Remove(present);
                }
            }

            while (node.Input.Count > 0 && node.Input[^1].Length == 0)
            {
                node.Input.RemoveAt(node.Input.Count - 1);
            }
        }

        switch (node.OpType)
        {
            case var op when Unchanged.Contains(op):
                yield return node;
                break;
            case "Clip" when from < 11:
                var min = Attr.Float(node, "min", float.MinValue);
                var max = Attr.Float(node, "max", float.MaxValue);
                node.Attribute.Clear();
                node.Input.Add(ConstF("min", min));
                node.Input.Add(ConstF("max", max));
                yield return node;
                break;
            case "Clip":
                yield return node;
                break;
            case "Slice" when from < 10:
                var starts = Attr.Ints(node, "starts");
                var ends = Attr.Ints(node, "ends");
                var axes = node.Attribute.Any(a => a.Name == "axes") ? Attr.Ints(node, "axes") : null;
                node.Attribute.Clear();
                node.Input.Add(Const("starts", starts));
                node.Input.Add(Const("ends", ends));
                if (axes is not null)
                {
                    node.Input.Add(Const("axes", axes));
                }

                yield return node;
                break;
            case "Slice":
                yield return node;
                break;
            case "Pad" when from < 11:
                var pads = Attr.Ints(node, "pads");
                var value = Attr.Float(node, "value", 0);
                var mode = node.Attribute.FirstOrDefault(a => a.Name == "mode");
                node.Attribute.Clear();
                if (mode is not null)
                {
                    node.Attribute.Add(mode);
                }

                node.Input.Add(Const("pads", pads));
                node.Input.Add(ConstF("value", value));
                yield return node;
                break;
            case "Pad":
                yield return node;
                break;
            case "Squeeze" or "Unsqueeze" when from < 13:
                MoveToInputs(("axes", () => Const("axes", Attr.Ints(node, "axes"))));
                yield return node;
                break;
            case "Split" when from < 13:
                MoveToInputs(("split", () => Const("split", Attr.Ints(node, "split"))));
                yield return node;
                break;
            case "ReduceSum" when from < 13:
                MoveToInputs(("axes", () => Const("axes", Attr.Ints(node, "axes"))));
                yield return node;
                break;
            case "Squeeze" or "Unsqueeze" or "Split" or "ReduceSum":
                yield return node;
                break;
            case "Dropout" when from < 12:
                var ratio = Attr.Float(node, "ratio", 0.5f);
                node.Attribute.Clear();
                node.Input.Add(ConstF("ratio", ratio));
                yield return node;
                break;
            case "Dropout":
                yield return node;
                break;
            case "Softmax" or "LogSoftmax" or "Hardmax" when from < 13:
                var rank = shapes[node.Input[0]].Rank;
                var axis = Attr.Int(node, "axis", 1);
                if (rank == 2 || (rank > 0 && (axis == rank - 1 || axis == -1)))
                {
                    // Coercing to 2-D around the last axis is the same as the new per-axis semantics.
                    node.Attribute.Clear();
                    node.Attribute.Add(Tensors.IntAttr("axis", rank == 2 ? (axis < 0 ? 1 : axis) : -1));
                    yield return node;
                    break;
                }

                throw new InvalidOperationException($"cannot raise the opset of {node.OpType} '{OnnxGraph.NodeLabel(node)}': it normalises over axes {axis}.. of a rank-{rank} input, which opset 13 no longer means.");
            case "Softmax" or "LogSoftmax" or "Hardmax":
                yield return node;
                break;
            default:
                throw new InvalidOperationException($"cannot raise the opset of '{OnnxGraph.NodeLabel(node)}' ({node.OpType}) from {from}: it is not in the operator set OnnxCnn upgrades.");
        }
    }
}

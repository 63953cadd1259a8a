using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Folds each frozen-statistics BatchNormalization into the Conv that feeds it, in the step graph: with
/// k = γ/√(var + ε), the Conv takes W·k (per filter) and the bias β − mean·k (+ its own bias·k), as ONNX
/// Runtime's inference optimiser does. The fold is made of small per-channel ops on the parameters, so the
/// backward pass differentiates it with the ordinary rules and γ, β, W and the conv bias keep their exact
/// gradients, while the full-size work of the BN disappears: its forward pass, and the dX, x̂ and dY·x̂ passes of
/// its backward (only dY's per-channel sum, the bias gradient, stays). Measured on PaddleOCR's text-direction
/// classifier, every parameter trainable, batch 16 (35 Conv+BN pairs): tests/OnnxCnn.Benchmarks/README.md.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>Rewrites every foldable Conv → BatchNormalization pair of <paramref name="g"/>; returns how many were folded.</summary>
    public static int Fold(GraphProto g, GraphEmitter e)
    {
        var view = new OnnxGraph(g);
        var constants = g.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var outputs = g.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var folded = 0;
        foreach (var bn in g.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (view.Producer(bn.Input[0]) is not { OpType: "Conv" } conv || !Foldable(view, conv, bn, constants, outputs))
            {
                continue;
            }

            var rank = g.Initializer.FirstOrDefault(t => t.Name == conv.Input[1])?.Dims.Count
                ?? g.Input.First(i => i.Name == conv.Input[1]).Type.TensorType.Shape.Dim.Count;
            var before = g.Node.Count;
            var eps = Attr.Float(bn, "epsilon", 1e-5f);
            var k = e.Node("Div", [bn.Input[1], e.Node("Sqrt", [e.Node("Add", [bn.Input[4], e.Scalar(eps)], "bnf_var")], "bnf_std")], "bnf_k");
            var weight = e.Node("Mul", [conv.Input[1], e.Node("Reshape", [k, e.Longs("bnf_kshape", [-1, .. Enumerable.Repeat(1L, rank - 1)])], "bnf_kfilter")], "bnf_w");
            var bias = e.Node("Sub", [bn.Input[2], e.Node("Mul", [bn.Input[3], k], "bnf_meank")], "bnf_b");
            if (conv.Input.Count > 2 && conv.Input[2].Length > 0)
            {
                bias = e.Node("Add", [bias, e.Node("Mul", [conv.Input[2], k], "bnf_convbk")], "bnf_bias");
            }

            // The per-channel nodes go right before the Conv (the graph stays topologically sorted); the Conv takes the
            // folded weight and bias and produces the BN's output; the BN goes.
            var added = g.Node.Skip(before).ToList();
            foreach (var n in added)
            {
                g.Node.Remove(n);
            }

            var at = g.Node.IndexOf(conv);
            for (var i = 0; i < added.Count; i++)
            {
                g.Node.Insert(at + i, added[i]);
            }

            conv.Input[1] = weight;
            if (conv.Input.Count > 2)
            {
                conv.Input[2] = bias;
            }
            else
            {
                conv.Input.Add(bias);
            }

            conv.Output[0] = bn.Output[0];
            g.Node.Remove(bn);
            view.Invalidate();
            folded++;
        }

        return folded;
    }

    /// <summary>The Conv's output feeds only this BN, the BN gives only Y and its statistics are constants.</summary>
    private static bool Foldable(OnnxGraph view, NodeProto conv, NodeProto bn, HashSet<string> constants, HashSet<string> outputs) =>
        bn.Input.Count == 5 && constants.Contains(bn.Input[3]) && constants.Contains(bn.Input[4])
        && bn.Output.Skip(1).All(o => o.Length == 0)
        && Attr.Int(bn, "training_mode", 0) == 0
        && view.Consumers(conv.Output[0]).Count == 1 && !outputs.Contains(conv.Output[0]);
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Training-mode dropout with a mask computed inside the graph.</summary>
internal sealed partial class BackwardRules
{
    // Arithmetic modulo the Mersenne prime 2³¹ − 1: every product stays below 2⁶², so int64 never overflows.
    private const long Prime = 2147483647;

    /// <summary>The scaled keep-mask (0 or 1/(1 − p)) of each rewritten Dropout node, by output.</summary>
    private readonly Dictionary<string, string> dropoutMasks = new(StringComparer.Ordinal);

    /// <summary>
    /// Replaces a Dropout node by inverted dropout (PyTorch's model.train(): y = x·keep/(1 − p)). The
    /// keep-mask is a hash of (seed, node, step input, element index) computed in the graph, so it is a
    /// pure function of the step number: a run resumed from a checkpoint draws the same masks bitwise.
    /// </summary>
    public void UseDropoutMask(NodeProto node, int seed, int ordinal)
    {
        var ratio = DropoutRatio(node);
        if (node.Output.Count > 1 && node.Output[1].Length > 0 && new OnnxGraph(e.Graph).Consumers(node.Output[1]).Count > 0)
        {
            throw Unsupported(node, "its mask output is used by the graph");
        }

        if (ratio <= 0)
        {
            return;
        }

        var index = e.Graph.Node.IndexOf(node);
        var before = e.Graph.Node.Count;
        var x = node.Input[0];
        var shape = e.ShapeOf(x);
        var count = e.Node("Size", [x], "do_count");
        var iota = e.Node("Range", [Scalarize(e.Longs("do_zero", 0)), count, Scalarize(e.Longs("do_one", 1))], "do_iota");
        var step = e.Node("Cast", [TrainingGraph.StepInput], "do_step", GraphEmitter.Int("to", 7));

        // h = i + (step·K1 + seed·K2 + node·K3) mod P, then three rounds of nonlinear mixing mod P.
        var p = e.Longs("do_p", Prime);
        string Mod(string t) => e.Node("Mod", [t, p], "do_mod", GraphEmitter.Int("fmod", 0));
        var offset = Mod(e.Node("Add", [e.Node("Mul", [step, e.Longs("do_k1", 1_000_003)], "do_sk"),
            e.Longs("do_seed", ((seed * 7_919L) + (ordinal * 104_729L) + 12_345L) % Prime)], "do_off"));
        var h = Mod(e.Node("Add", [iota, Scalarize(offset)], "do_h0"));
        h = Mod(e.Node("Add", [e.Node("Mul", [h, e.Longs("do_a", 48_271)], "do_h1"), e.Longs("do_c1", 1_013_904_223)], "do_h1c"));
        h = Mod(e.Node("Add", [e.Node("Mul", [h, h], "do_h2"), e.Longs("do_c2", 374_761_393)], "do_h2c"));
        h = Mod(e.Node("Add", [e.Node("Mul", [h, e.Longs("do_b", 69_621)], "do_h3"), e.Longs("do_c3", 668_265_263)], "do_h3c"));
        h = Mod(e.Node("Add", [e.Node("Mul", [h, h], "do_h4"), e.Longs("do_c4", 2_246_822_519 % Prime)], "do_h4c"));
        var uniform = e.Node("Div", [e.Node("Cast", [h], "do_hf", GraphEmitter.Int("to", 1)), e.Scalar(Prime)], "do_u");
        var keep = e.Node("Cast", [e.Node("Not", [e.Node("Less", [uniform, e.Scalar(ratio)], "do_drop")], "do_keep")], "do_keepf", GraphEmitter.Int("to", 1));
        var mask = e.Node("Reshape", [e.Node("Mul", [keep, e.Scalar(1 / (1 - ratio))], "do_scaled"), shape], "do_mask");
        var y = e.Node("Mul", [x, mask], "do_y");

        e.ReplaceNode(node, index, before, y);
        if (node.Input.Count > 1)
        {
            RemoveIfUnused(node.Input[1]);
        }

        dropoutMasks[node.Output[0]] = mask;
    }

    /// <summary>Drops the ratio's initializer (or Constant node) once the rewritten Dropout was its only consumer.</summary>
    private void RemoveIfUnused(string ratio)
    {
        if (ratio.Length == 0 || e.Graph.Node.Any(n => n.Input.Contains(ratio)) || e.Graph.Output.Any(o => o.Name == ratio))
        {
            return;
        }

        var initializer = e.Graph.Initializer.FirstOrDefault(t => t.Name == ratio);
        if (initializer is not null && !e.Graph.Input.Any(i => i.Name == ratio))
        {
            e.Graph.Initializer.Remove(initializer);
        }

        var constant = e.Graph.Node.FirstOrDefault(n => n.OpType == "Constant" && n.Output.Contains(ratio));
        if (constant is not null)
        {
            e.Graph.Node.Remove(constant);
        }
    }

    private float DropoutRatio(NodeProto node)
    {
        if (node.Input.Count > 1 && node.Input[1].Length > 0)
        {
            var constant = new OnnxGraph(e.Graph).ConstantOf(node.Input[1]) ?? throw Unsupported(node, "Dropout needs a constant ratio");
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(TensorData.FromProto(constant).Bytes)[0];
        }

        return Attr.Float(node, "ratio", 0.5f);
    }
}

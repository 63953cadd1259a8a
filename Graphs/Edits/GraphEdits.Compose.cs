using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>Composition: one model's output feeds another's input.</summary>
public static partial class GraphEdits
{
    /// <summary>
    /// The model that runs <paramref name="first"/> and feeds its only output to <paramref name="second"/>'s image input
    /// (<paramref name="input"/>, default its first): e.g. a preprocessing graph shipped beside a network (ML.NET's
    /// ResNetPreprocess.onnx). The composed model has <paramref name="first"/>'s inputs, <paramref name="second"/>'s outputs
    /// and metadata; every name of <paramref name="first"/> except its inputs is prefixed with <paramref name="prefix"/> so
    /// nothing clashes. Opsets are raised to the higher of the two (<see cref="OpsetUpgrade"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="first"/> has more than one output, the input is not found,
    /// the two shapes disagree, or the opsets cannot be brought together.</exception>
    public static OnnxModel Compose(OnnxModel first, OnnxModel second, string? input = null, string prefix = "pre/")
    {
        if (first.Graph.Output.Count != 1)
        {
            throw new InvalidOperationException($"the first model has {first.Graph.Output.Count} outputs; composing needs exactly one.");
        }

        var target = new OnnxGraph(second.Graph);
        var inputs = RuntimeInputs(target).ToList();
        var joint = input ?? inputs.FirstOrDefault() ?? throw new InvalidOperationException("the second model has no inputs.");
        if (!inputs.Contains(joint))
        {
            throw new InvalidOperationException($"the second model has no input '{joint}'; its inputs are: {string.Join(", ", inputs)}.");
        }

        var produced = ShapeInference.Infer(first)[first.Graph.Output[0].Name];
        var expected = ShapeInference.FromValueInfo(second.Graph.Input.First(i => i.Name == joint));
        if (produced.Dims is { } p && expected.Dims is { } q && (p.Length != q.Length || p.Zip(q).Any(d => d.First.IsKnown && d.Second.IsKnown && d.First.Value != d.Second.Value)))
        {
            throw new InvalidOperationException($"the first model's output '{first.Graph.Output[0].Name}' is {produced} but input '{joint}' of the second is {expected}.");
        }

        var opset = Math.Max(first.Opset, second.Opset);
        var head = OpsetUpgrade.Upgrade(first, opset);
        var result = OpsetUpgrade.Upgrade(second, opset);
        var keep = head.Graph.Input.Select(i => i.Name).Where(n => head.Graph.Initializer.All(t => t.Name != n)).ToHashSet(StringComparer.Ordinal);
        if (keep.Any(n => target.Producer(n) is not null || target.Initializer(n) is not null || (n != joint && inputs.Contains(n))))
        {
            throw new InvalidOperationException($"the first model's inputs ({string.Join(", ", keep)}) clash with names in the second model.");
        }

        PrefixNames(head.Graph, keep, joint, prefix);
        var jointInfo = result.Graph.Input.First(i => i.Name == joint);
        result.Graph.Input.Remove(jointInfo);
        foreach (var i in head.Graph.Input.Where(i => keep.Contains(i.Name)).Reverse())
        {
            result.Graph.Input.Insert(0, i.Clone());
        }

        var nodes = head.Graph.Node.Concat(result.Graph.Node).ToList();
        result.Graph.Node.Clear();
        result.Graph.Node.Add(nodes);
        result.Graph.Initializer.Add(head.Graph.Initializer);
        result.Proto.IrVersion = Math.Max(head.Proto.IrVersion, result.Proto.IrVersion);
        return Finish(result);
    }

    /// <summary>Prefixes every node, tensor and initializer name except <paramref name="keep"/>; the only output becomes <paramref name="joint"/>.</summary>
    private static void PrefixNames(GraphProto graph, IReadOnlySet<string> keep, string joint, string prefix)
    {
        var output = graph.Output[0].Name;
        string Rename(string name) => name.Length == 0 || keep.Contains(name) ? name : name == output ? joint : prefix + name;
        foreach (var node in graph.Node)
        {
            node.Name = node.Name.Length > 0 ? prefix + node.Name : node.Name;
            for (var i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = Rename(node.Input[i]);
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                node.Output[i] = Rename(node.Output[i]);
            }
        }

        foreach (var t in graph.Initializer)
        {
            t.Name = Rename(t.Name);
        }
    }
}

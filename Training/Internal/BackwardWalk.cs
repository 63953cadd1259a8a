using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// The reverse-mode walk of a region of a graph: which tensors depend on the sources, then every node's backward rule
/// (<see cref="BackwardRules"/>) in reverse topological order from one output's gradient, the gradient parts of a
/// tensor used more than once (residual branches) collected for one Sum. Grad-CAM's gradient graph is emitted with it.
/// The training compiler's backward pass is the same walk with the parameters as sources.
/// </summary>
internal static class BackwardWalk
{
    /// <summary>The backward pass of MaxPool reads the forward's indices: every MaxPool in <paramref name="region"/> gets its second output.</summary>
    public static void AddMaxPoolIndices(IEnumerable<NodeProto> region, GraphEmitter emitter)
    {
        foreach (var node in region.Where(n => n.OpType == "MaxPool" && (n.Output.Count < 2 || n.Output[1].Length == 0)))
        {
            var indices = emitter.Name(node.Output[0] + "_indices");
            if (node.Output.Count < 2)
            {
                node.Output.Add(indices);
            }
            else
            {
                node.Output[1] = indices;
            }
        }
    }

    /// <summary>The sources and every tensor computed from them in <paramref name="region"/> (topologically ordered).</summary>
    public static HashSet<string> Downstream(IReadOnlyList<NodeProto> region, IEnumerable<string> sources)
    {
        var dependent = new HashSet<string>(sources, StringComparer.Ordinal);
        foreach (var node in region)
        {
            if (node.Input.Any(dependent.Contains))
            {
                dependent.UnionWith(node.Output.Where(o => o.Length > 0));
            }
        }

        return dependent;
    }

    /// <summary>
    /// Walks <paramref name="region"/> backwards from <paramref name="outputGradient"/>, the gradient of <paramref name="output"/>,
    /// emitting the gradient of every input in <paramref name="wanted"/>; returns each tensor's gradient parts (sum them with <see cref="BackwardRules.Sum"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">A node on the way has no backward rule.</exception>
    public static Dictionary<string, List<string>> Run(IReadOnlyList<NodeProto> region, BackwardRules rules, string output, string outputGradient,
        IReadOnlySet<string> wanted)
    {
        var parts = new Dictionary<string, List<string>>(StringComparer.Ordinal) { [output] = [outputGradient] };
        for (var n = region.Count - 1; n >= 0; n--)
        {
            var node = region[n];
            if (node.Output.Count == 0 || !parts.TryGetValue(node.Output[0], out var incoming))
            {
                continue;
            }

            if (!BackwardRules.Supported.Contains(node.OpType))
            {
                throw BackwardRules.Unsupported(node, "no backward rule for this operator");
            }

            foreach (var (index, gradient) in rules.Apply(node, rules.Sum(incoming), i => i < node.Input.Count && wanted.Contains(node.Input[i])))
            {
                var input = node.Input[index];
                if (!parts.TryGetValue(input, out var list))
                {
                    parts[input] = list = [];
                }

                list.Add(gradient);
            }
        }

        return parts;
    }

}

using System.Text.RegularExpressions;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Inspection.Internal;

/// <summary>Finds the tensors inspection looks at: by default, and by name pattern.</summary>
internal static class LayerFinder
{
    /// <summary>Nodes a Conv's "layer" (in the Keras sense of a layer with its activation) extends through.</summary>
    private static readonly HashSet<string> LayerTail = new(StringComparer.Ordinal)
    {
        "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Elu", "Selu", "Tanh",
    };

    private static readonly HashSet<string> Pools = new(StringComparer.Ordinal) { "MaxPool", "AveragePool", "LpPool" };

    /// <summary>The first runtime input of the model.</summary>
    public static string Input(OnnxModel model)
    {
        var graph = new OnnxGraph(model.Graph);
        return model.Graph.Input.FirstOrDefault(i => graph.Initializer(i.Name) is null)?.Name
            ?? throw new ArgumentException("the model has no runtime input.");
    }

    /// <summary>
    /// Each Conv layer (through its BatchNorm and activation) and each pooling output with a spatial size over 1×1, in
    /// graph order, outside the classifier head.
    /// </summary>
    public static IReadOnlyList<InspectedLayer> Defaults(OnnxModel model)
    {
        var graph = new OnnxGraph(model.Graph);
        var shapes = ShapeInference.Infer(model);
        var head = HeadEdits.Find(model, out _)?.Nodes.ToHashSet(ReferenceEqualityComparer.Instance) ?? [];
        var result = new List<InspectedLayer>();
        foreach (var node in graph.TopologicalOrder())
        {
            if (head.Contains(node) || node.Output.Count == 0 || !(node.OpType == "Conv" || Pools.Contains(node.OpType)))
            {
                continue;
            }

            var tensor = node.Output[0];
            if (node.OpType == "Conv")
            {
                while (graph.Consumers(tensor) is [var next] && LayerTail.Contains(next.OpType) && !graph.IsOutput(tensor) && !head.Contains(next))
                {
                    tensor = next.Output[0];
                }
            }

            if (IsSpatial(shapes[tensor]))
            {
                result.Add(new InspectedLayer(OnnxGraph.NodeLabel(node), tensor, node.OpType));
            }
        }

        return result;
    }

    /// <summary>
    /// The tensors a pattern names: a node name (its first output) or a tensor name, with <c>*</c> and <c>?</c>
    /// wildcards, in graph order. A pattern matching nothing is an <see cref="ArgumentException"/> listing a few names.
    /// </summary>
    public static IReadOnlyList<InspectedLayer> Match(OnnxModel model, IReadOnlyList<string> patterns, string what = "layer")
    {
        if (patterns.Count == 0)
        {
            throw new ArgumentException($"give at least one {what} name pattern.");
        }

        var graph = new OnnxGraph(model.Graph);
        var order = graph.TopologicalOrder();
        var result = new List<InspectedLayer>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            var regex = new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
                RegexOptions.CultureInvariant);
            var matched = false;
            foreach (var node in order)
            {
                var tensor = regex.IsMatch(node.Name) && node.Output.Count > 0 ? node.Output[0] : node.Output.FirstOrDefault(o => o.Length > 0 && regex.IsMatch(o));
                if (tensor is null or "")
                {
                    continue;
                }

                matched = true;
                if (seen.Add(tensor))
                {
                    result.Add(new InspectedLayer(OnnxGraph.NodeLabel(node), tensor, node.OpType));
                }
            }

            if (!matched)
            {
                throw new ArgumentException($"{what} '{pattern}' matches no node or tensor of the model; {Suggestions(model)}.");
            }
        }

        return result;
    }

    /// <summary>"layers include a, b, c … (N nodes)": a few names a user can pass instead.</summary>
    public static string Suggestions(OnnxModel model)
    {
        var defaults = Defaults(model);
        var names = defaults.Count > 0 ? defaults.Select(l => l.Name).ToList() : model.Graph.Node.Select(OnnxGraph.NodeLabel).ToList();
        var shown = names.Count <= 6 ? names : [.. names.Take(3), "…", .. names.TakeLast(3)];
        return $"layers include {string.Join(", ", shown)} (node or tensor names; * and ? match any text)";
    }

    /// <summary>A 4-D tensor whose spatial size is unknown or larger than 1×1.</summary>
    public static bool IsSpatial(TensorShape shape) =>
        shape.Dims is { Length: 4 } d && !(d[2] is { IsKnown: true, Value: 1 } && d[3] is { IsKnown: true, Value: 1 });

    /// <summary>The node producing a tensor, or null for a graph input or initializer.</summary>
    public static NodeProto? Producer(OnnxModel model, string tensor) => new OnnxGraph(model.Graph).Producer(tensor);
}

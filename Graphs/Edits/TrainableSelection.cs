using System.Text.RegularExpressions;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>
/// Which parameters train, and where the frozen part of the graph meets the trainable part.
/// </summary>
/// <param name="Parameters">Source names (initializers or Constant outputs) of the trainable parameters.</param>
/// <param name="Region">Nodes whose outputs depend on a trainable parameter: the part a backward pass must differentiate, in topological order.</param>
/// <param name="Boundary">Computed tensors (or graph inputs) the region reads from the frozen part: run the frozen prefix up to these, then train the rest.</param>
public sealed record TrainableSelection(IReadOnlySet<string> Parameters, IReadOnlyList<NodeProto> Region, IReadOnlyList<string> Boundary)
{
    /// <summary>Parameters of the trainable nodes, counted once each.</summary>
    public long CountElements(OnnxModel model)
    {
        var graph = new OnnxGraph(model.Graph);
        return Parameters.Sum(p => graph.ConstantOf(p) is { } t ? Tensors.Count(t) : 0);
    }
}

/// <summary>The trainable-selection helper used by the training compiler.</summary>
public static class Trainable
{
    /// <summary>
    /// Parameters whose source name, or whose node's name, matches one of the globs
    /// (<c>*</c> any run of characters, <c>?</c> one character; e.g. <c>layer4.*</c>, <c>/fc/*</c>).
    /// </summary>
    public static TrainableSelection ByGlobs(OnnxModel model, IEnumerable<string> globs)
    {
        var patterns = globs.Select(g => new Regex("^" + Regex.Escape(g).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant)).ToList();
        if (patterns.Count == 0)
        {
            throw new ArgumentException("give at least one name pattern.");
        }

        var graph = new OnnxGraph(model.Graph);
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Node)
        {
            var nodeMatches = patterns.Any(p => p.IsMatch(node.Name));
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (Internal.Parameters.IsParameter(node, i, graph, out _) && !Internal.Parameters.IsNonTrainable(node, i))
                {
                    var source = graph.ConstantSource(node.Input[i]);
                    if (nodeMatches || patterns.Any(p => p.IsMatch(source)))
                    {
                        selected.Add(source);
                    }
                }
            }
        }

        if (selected.Count == 0)
        {
            throw new InvalidOperationException($"no parameter or node name matches {string.Join(", ", globs.Select(g => $"'{g}'"))}.");
        }

        return Build(model, selected);
    }

    /// <summary>Every parameter of the nodes downstream of <paramref name="tensor"/> (e.g. "everything after block4_pool").</summary>
    public static TrainableSelection Downstream(OnnxModel model, string tensor)
    {
        var graph = new OnnxGraph(model.Graph);
        GraphEdits.RequireTensor(graph, tensor);
        var reached = new HashSet<string>(StringComparer.Ordinal) { tensor };
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.TopologicalOrder())
        {
            if (!node.Input.Any(reached.Contains))
            {
                continue;
            }

            reached.UnionWith(node.Output);
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (Internal.Parameters.IsParameter(node, i, graph, out _) && !Internal.Parameters.IsNonTrainable(node, i))
                {
                    selected.Add(graph.ConstantSource(node.Input[i]));
                }
            }
        }

        if (selected.Count == 0)
        {
            throw new InvalidOperationException($"nothing downstream of '{tensor}' has parameters.");
        }

        return Build(model, selected);
    }

    /// <summary>The classifier head's parameters only.</summary>
    public static TrainableSelection HeadOnly(OnnxModel model)
    {
        var head = HeadEdits.Find(model, out var reason) ?? throw new InvalidOperationException($"no classifier head found: {reason}.");
        var graph = new OnnxGraph(model.Graph);
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in head.DenseNodes)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (graph.ConstantOf(node.Input[i]) is not null && Internal.Parameters.IsParameter(node, i, graph, out _))
                {
                    selected.Add(graph.ConstantSource(node.Input[i]));
                }
            }
        }

        return Build(model, selected);
    }

    private static TrainableSelection Build(OnnxModel model, HashSet<string> parameters)
    {
        var graph = new OnnxGraph(model.Graph);
        var dependent = new HashSet<string>(StringComparer.Ordinal);
        var region = new List<NodeProto>();
        foreach (var node in graph.TopologicalOrder())
        {
            var usesParameter = node.Input.Any(i => i.Length > 0 && parameters.Contains(graph.ConstantSource(i)));
            if (usesParameter || node.Input.Any(dependent.Contains))
            {
                region.Add(node);
                dependent.UnionWith(node.Output.Where(o => o.Length > 0));
            }
        }

        var boundary = new List<string>();
        foreach (var node in region)
        {
            foreach (var input in node.Input.Where(i => i.Length > 0))
            {
                if (!dependent.Contains(input) && graph.ConstantOf(input) is null && !boundary.Contains(input))
                {
                    boundary.Add(input);
                }
            }
        }

        return new TrainableSelection(parameters, region, boundary);
    }
}

using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>
/// Structural edits. Each returns a new model (the input is not changed) that passes
/// <see cref="OnnxGraph.Validate"/>; a request that cannot apply is an
/// <see cref="InvalidOperationException"/> saying why.
/// </summary>
public static partial class GraphEdits
{
    /// <summary>
    /// The feature extractor up to <paramref name="tensor"/>: it becomes the only output; with
    /// <paramref name="globalPool"/> it is global-average-pooled and flattened to [batch, C] first.
    /// </summary>
    public static OnnxModel Cut(OnnxModel model, string tensor, bool globalPool = false)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        RequireTensor(graph, tensor);
        var output = tensor;
        if (globalPool)
        {
            var pooled = graph.UniqueName(tensor + "_gap");
            output = graph.UniqueName("features");
            result.Graph.Node.Add(Tensors.Node("GlobalAveragePool", "/cut/GlobalAveragePool", [tensor], [pooled]));
            result.Graph.Node.Add(Tensors.Node("Flatten", "/cut/Flatten", [pooled], [output], Tensors.IntAttr("axis", 1)));
            graph.Invalidate();
        }

        result.Graph.Output.Clear();
        result.Graph.Output.Add(new ValueInfoProto { Name = output });
        graph.Invalidate();
        graph.RemoveDeadCode();
        return Finish(result);
    }

    /// <summary>Makes dimension 0 of every input and output the symbol <paramref name="symbol"/>, fixing Reshape targets that hard-code the batch.</summary>
    public static OnnxModel DynamicBatch(OnnxModel model, string symbol = "batch")
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var before = ShapeInference.Infer(model);
        foreach (var node in result.Graph.Node.Where(n => n.OpType == "Reshape" && n.Input.Count > 1).ToList())
        {
            var shape = graph.ConstantOf(node.Input[1]);
            var target = shape is null ? null : ShapeContext.ReadInts(shape);
            var input = before[node.Input[0]];
            if (target is not { Length: > 0 } || input.Dims is not { Length: > 0 } || !input.Dims[0].IsKnown || target[0] != input.Dims[0].Value || target[0] <= 0)
            {
                continue;
            }

            // 0 copies the input's (now symbolic) batch dimension.
            target[0] = 0;
            var name = graph.UniqueName(node.Input[1] + "_dynamic");
            result.Graph.Initializer.Add(Tensors.Int64(name, target, target.Length));
            node.Input[1] = name;
            graph.Invalidate();
        }

        foreach (var v in result.Graph.Input.Where(i => graph.Initializer(i.Name) is null).Concat(result.Graph.Output))
        {
            var dims = v.Type?.TensorType?.Shape?.Dim;
            if (dims is { Count: > 0 })
            {
                dims[0] = new TensorShapeProto.Types.Dimension { DimParam = symbol };
            }
        }

        // Intermediate shape hints would now contradict the inputs.
        result.Graph.ValueInfo.Clear();
        graph.RemoveUnusedInitializers();
        return Finish(result);
    }

    /// <summary>Renames graph inputs and outputs (<c>old → new</c>) everywhere they are used.</summary>
    public static OnnxModel Rename(OnnxModel model, IReadOnlyDictionary<string, string> inputs, IReadOnlyDictionary<string, string> outputs)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        foreach (var (from, to) in inputs)
        {
            if (!graph.IsRuntimeInput(from))
            {
                throw new InvalidOperationException($"model has no input '{from}'; its inputs are: {string.Join(", ", RuntimeInputs(graph))}.");
            }

            RenameTensor(result.Graph, graph, from, to);
        }

        foreach (var (from, to) in outputs)
        {
            if (!graph.IsOutput(from))
            {
                throw new InvalidOperationException($"model has no output '{from}'; its outputs are: {string.Join(", ", result.Graph.Output.Select(o => o.Name))}.");
            }

            RenameTensor(result.Graph, graph, from, to);
        }

        return Finish(result);
    }

    /// <summary>The subgraph that computes <paramref name="outputs"/> from <paramref name="inputs"/> (plus constants).</summary>
    public static OnnxModel Extract(OnnxModel model, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var shapes = ShapeInference.Infer(model);
        foreach (var t in inputs.Concat(outputs))
        {
            RequireTensor(graph, t);
        }

        var boundary = new HashSet<string>(inputs, StringComparer.Ordinal);
        var keep = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<string>(outputs);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t) || boundary.Contains(t) || graph.Initializer(t) is not null)
            {
                continue;
            }

            var node = graph.Producer(t);
            if (node is null)
            {
                throw new InvalidOperationException($"outputs depend on model input '{t}', which is not among --inputs ({string.Join(", ", inputs)}).");
            }

            if (keep.Add(node))
            {
                foreach (var i in node.Input.Where(i => i.Length > 0))
                {
                    stack.Push(i);
                }
            }
        }

        var nodes = result.Graph.Node.Where(keep.Contains).ToList();
        result.Graph.Node.Clear();
        result.Graph.Node.Add(nodes);
        var initializerInputs = result.Graph.Input.Where(i => graph.Initializer(i.Name) is not null).ToList();
        result.Graph.Input.Clear();
        result.Graph.Input.Add(inputs.Select(i => ShapeInference.ToValueInfo(i, shapes[i])));
        result.Graph.Input.Add(initializerInputs);
        result.Graph.Output.Clear();
        result.Graph.Output.Add(outputs.Select(o => new ValueInfoProto { Name = o }));
        graph.Invalidate();
        graph.RemoveUnusedInitializers();
        return Finish(result);
    }

    /// <summary>Adds Softmax over the last axis after an output; the output keeps its name.</summary>
    public static OnnxModel AppendSoftmax(OnnxModel model, string? output = null)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var name = output ?? result.Graph.Output.FirstOrDefault()?.Name ?? throw new InvalidOperationException("model has no outputs.");
        if (!graph.IsOutput(name))
        {
            throw new InvalidOperationException($"model has no output '{name}'; its outputs are: {string.Join(", ", result.Graph.Output.Select(o => o.Name))}.");
        }

        if (graph.Producer(name) is { OpType: "Softmax" })
        {
            throw new InvalidOperationException($"output '{name}' already comes from a Softmax.");
        }

        var logits = graph.UniqueName(name + "_logits");
        RenameProducerOutput(result.Graph, graph, name, logits);
        var rank = ShapeInference.Infer(model)[name].Rank;
        result.Graph.Node.Add(Tensors.Node("Softmax", graph.UniqueName("/Softmax"), [logits], [name], Tensors.IntAttr("axis", rank > 0 ? rank - 1 : -1)));
        graph.Invalidate();
        return Finish(result);
    }

    /// <summary>What <see cref="Clean"/> changed.</summary>
    /// <param name="DeadNodes">Nodes removed because no output needs them.</param>
    /// <param name="UnusedInitializers">Initializers nothing read.</param>
    /// <param name="InitializerInputs">Initializers no longer listed as graph inputs.</param>
    /// <param name="UnsharedIdentities">Identity nodes replaced by their own copy of the initializer.</param>
    public sealed record CleanReport(int DeadNodes, int UnusedInitializers, int InitializerInputs, int UnsharedIdentities);

    /// <summary>
    /// Removes dead nodes, unused initializers and initializers listed as graph inputs; with
    /// <paramref name="unshareIdentities"/>, every Identity that re-exposes an initializer is replaced
    /// by a copy of it under the Identity's output name (so each user owns its parameter); with
    /// <paramref name="constantsAsInitializers"/>, Constant nodes holding a tensor become initializers of the same
    /// name (weights exported as Constant nodes, e.g. by Paddle2ONNX, can then be fed and trained).
    /// </summary>
    public static (OnnxModel Model, CleanReport Report) Clean(OnnxModel model, bool unshareIdentities = false, bool constantsAsInitializers = false)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var unshared = 0;
        if (constantsAsInitializers)
        {
            foreach (var node in result.Graph.Node.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx" && n.Output.Count == 1 && !graph.IsOutput(n.Output[0])).ToList())
            {
                if (graph.ConstantOf(node.Output[0]) is not { } value)
                {
                    continue;
                }

                var copy = value.Clone();
                copy.Name = node.Output[0];
                result.Graph.Initializer.Add(copy);
                result.Graph.Node.Remove(node);
            }

            graph.Invalidate();
        }

        if (unshareIdentities)
        {
            foreach (var node in result.Graph.Node.Where(n => n.OpType == "Identity" && n.Input.Count == 1 && !graph.IsOutput(n.Output[0])).ToList())
            {
                if (graph.ConstantOf(node.Input[0]) is not { } constant)
                {
                    continue;
                }

                var copy = constant.Clone();
                copy.Name = node.Output[0];
                result.Graph.Initializer.Add(copy);
                result.Graph.Node.Remove(node);
                unshared++;
            }

            graph.Invalidate();
        }

        var listed = result.Graph.Input.Where(i => graph.Initializer(i.Name) is not null).ToList();
        foreach (var i in listed)
        {
            result.Graph.Input.Remove(i);
        }

        graph.Invalidate();
        var initializersBefore = result.Graph.Initializer.Count;
        var dead = graph.RemoveDeadCode();
        var unused = initializersBefore - result.Graph.Initializer.Count;
        return (Finish(result), new CleanReport(dead, unused, listed.Count, unshared));
    }

    internal static void RequireTensor(OnnxGraph graph, string tensor)
    {
        if (graph.Producer(tensor) is null && !graph.IsRuntimeInput(tensor))
        {
            var near = graph.Proto.Node.SelectMany(n => n.Output).Where(o => o.Contains(tensor, StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
            throw new InvalidOperationException($"model has no tensor '{tensor}'" + (near.Count > 0 ? $"; did you mean {string.Join(", ", near.Select(n => $"'{n}'"))}?" : " (node outputs are listed by 'onnxcnn summary')."));
        }
    }

    private static IEnumerable<string> RuntimeInputs(OnnxGraph graph) => graph.Proto.Input.Where(i => graph.Initializer(i.Name) is null).Select(i => i.Name);

    private static void RenameTensor(GraphProto g, OnnxGraph graph, string from, string to)
    {
        if (from == to)
        {
            return;
        }

        if (graph.Producer(to) is not null || g.Input.Any(i => i.Name == to) || graph.Initializer(to) is not null)
        {
            throw new InvalidOperationException($"cannot rename '{from}' to '{to}': the model already has a tensor '{to}'.");
        }

        foreach (var node in g.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == from)
                {
                    node.Input[i] = to;
                }
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == from)
                {
                    node.Output[i] = to;
                }
            }
        }

        foreach (var v in g.Input.Concat(g.Output).Concat(g.ValueInfo).Where(v => v.Name == from))
        {
            v.Name = to;
        }

        graph.Invalidate();
    }

    /// <summary>Makes the node that produces <paramref name="tensor"/> write <paramref name="newName"/> instead (other readers follow).</summary>
    internal static void RenameProducerOutput(GraphProto g, OnnxGraph graph, string tensor, string newName)
    {
        foreach (var node in g.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == tensor)
                {
                    node.Input[i] = newName;
                }
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == tensor)
                {
                    node.Output[i] = newName;
                }
            }
        }

        graph.Invalidate();
    }

    /// <summary>Validates, then re-derives output types and shapes (keeping declared symbols where inference knows less).</summary>
    internal static OnnxModel Finish(OnnxModel model)
    {
        new OnnxGraph(model.Graph).Validate();
        var shapes = ShapeInference.Infer(model);
        for (var i = 0; i < model.Graph.Output.Count; i++)
        {
            var name = model.Graph.Output[i].Name;
            var declared = ShapeInference.FromValueInfo(model.Graph.Output[i]);
            var inferred = shapes[name];
            if (inferred.Dims is not null && declared.Dims is not null && declared.Dims.Length == inferred.Dims.Length)
            {
                inferred = inferred with { Dims = inferred.Dims.Select((d, k) => d.IsKnown || d.Symbol is not null ? d : declared.Dims[k]).ToArray() };
            }

            if (inferred.ElementType == 0)
            {
                inferred = inferred with { ElementType = declared.ElementType };
            }

            model.Graph.Output[i] = ShapeInference.ToValueInfo(name, inferred.Dims is null ? inferred with { Dims = declared.Dims } : inferred);
        }

        return model;
    }
}

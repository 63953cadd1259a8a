using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs;

/// <summary>
/// The editing view of a graph: the <see cref="GraphProto"/> is the storage, and this class keeps
/// producer/consumer maps, constants, topological order, validation, dead-code elimination and
/// unique names over it. Call <see cref="Invalidate"/> after changing the proto directly.
/// </summary>
public sealed class OnnxGraph
{
    private Dictionary<string, NodeProto>? producers;
    private Dictionary<string, List<NodeProto>>? consumers;
    private Dictionary<string, TensorProto>? initializers;

    /// <summary>Wraps a graph.</summary>
    public OnnxGraph(GraphProto proto) => Proto = proto;

    /// <summary>The graph.</summary>
    public GraphProto Proto { get; }

    /// <summary>Forgets cached maps after an edit.</summary>
    public void Invalidate()
    {
        producers = null;
        consumers = null;
        initializers = null;
    }

    private Dictionary<string, NodeProto> Producers => producers ??= BuildProducers();

    private Dictionary<string, List<NodeProto>> ConsumerMap => consumers ??= BuildConsumers();

    private Dictionary<string, TensorProto> Initializers => initializers ??= Proto.Initializer.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    /// <summary>The node that outputs <paramref name="tensor"/>, or null (graph input, initializer, unknown).</summary>
    public NodeProto? Producer(string tensor) => Producers.GetValueOrDefault(tensor);

    /// <summary>The nodes that read <paramref name="tensor"/>.</summary>
    public IReadOnlyList<NodeProto> Consumers(string tensor) => ConsumerMap.TryGetValue(tensor, out var list) ? list : [];

    /// <summary>The initializer named <paramref name="name"/>, or null.</summary>
    public TensorProto? Initializer(string name) => Initializers.GetValueOrDefault(name);

    /// <summary>True when <paramref name="name"/> is a graph input that is not also an initializer.</summary>
    public bool IsRuntimeInput(string name) => Proto.Input.Any(i => i.Name == name) && Initializer(name) is null;

    /// <summary>True when <paramref name="name"/> is a graph output.</summary>
    public bool IsOutput(string name) => Proto.Output.Any(o => o.Name == name);

    /// <summary>
    /// The constant behind a tensor: an initializer or a Constant node's value, looking through
    /// Identity nodes. Null when the tensor is computed.
    /// </summary>
    public TensorProto? ConstantOf(string tensor)
    {
        for (var hops = 0; hops < 64 && tensor.Length > 0; hops++)
        {
            if (IsRuntimeInput(tensor))
            {
                return null;
            }

            if (Initializer(tensor) is { } init)
            {
                return init;
            }

            var node = Producer(tensor);
            if (node is null)
            {
                return null;
            }

            if (node.OpType == "Constant" && node.Domain is "" or "ai.onnx")
            {
                return ConstantValue(node);
            }

            if (node.OpType != "Identity" || node.Input.Count != 1)
            {
                return null;
            }

            tensor = node.Input[0];
        }

        return null;
    }

    /// <summary>The source name of a constant seen through Identity nodes (the initializer or Constant output), else the tensor itself.</summary>
    public string ConstantSource(string tensor)
    {
        for (var hops = 0; hops < 64; hops++)
        {
            var node = Producer(tensor);
            if (node is null || node.OpType != "Identity" || node.Input.Count != 1 || ConstantOf(node.Input[0]) is null)
            {
                return tensor;
            }

            tensor = node.Input[0];
        }

        return tensor;
    }

    /// <summary>The tensor held by a Constant node (value, or the value_float(s)/value_int(s) forms).</summary>
    public static TensorProto? ConstantValue(NodeProto node)
    {
        foreach (var a in node.Attribute)
        {
            switch (a.Name)
            {
                case "value" when a.T is not null:
                    return a.T;
                case "value_float":
                    return new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, FloatData = { a.F } };
                case "value_floats":
                    var fs = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, FloatData = { a.Floats } };
                    fs.Dims.Add(a.Floats.Count);
                    return fs;
                case "value_int":
                    return new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Int64Data = { a.I } };
                case "value_ints":
                    var ints = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Int64Data = { a.Ints } };
                    ints.Dims.Add(a.Ints.Count);
                    return ints;
            }
        }

        return null;
    }

    /// <summary>Nodes in an order where every node comes after the producers of its inputs.</summary>
    public IReadOnlyList<NodeProto> TopologicalOrder()
    {
        var indegree = new Dictionary<NodeProto, int>(ReferenceEqualityComparer.Instance);
        foreach (var node in Proto.Node)
        {
            indegree[node] = node.Input.Where(i => i.Length > 0).Distinct().Count(i => Producer(i) is { } p && !ReferenceEquals(p, node));
        }

        var ready = new Queue<NodeProto>(Proto.Node.Where(n => indegree[n] == 0));
        var order = new List<NodeProto>(Proto.Node.Count);
        while (ready.Count > 0)
        {
            var node = ready.Dequeue();
            order.Add(node);
            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                foreach (var consumer in Consumers(output).Distinct(ReferenceEqualityComparer.Instance).Cast<NodeProto>())
                {
                    if (--indegree[consumer] == 0)
                    {
                        ready.Enqueue(consumer);
                    }
                }
            }
        }

        if (order.Count != Proto.Node.Count)
        {
            var stuck = Proto.Node.First(n => indegree[n] > 0);
            throw new InvalidDataException($"graph has a cycle through node '{NodeLabel(stuck)}'.");
        }

        return order;
    }

    /// <summary>
    /// Checks the graph is well formed: every node input is defined, no cycle, every tensor has one
    /// producer, outputs are defined. Throws with the first problem found.
    /// </summary>
    public void Validate()
    {
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in Proto.Input)
        {
            defined.Add(i.Name);
        }

        foreach (var t in Proto.Initializer)
        {
            defined.Add(t.Name);
        }

        var seenOutputs = new HashSet<string>(defined, StringComparer.Ordinal);
        foreach (var node in Proto.Node)
        {
            foreach (var o in node.Output.Where(o => o.Length > 0))
            {
                if (!seenOutputs.Add(o))
                {
                    throw new InvalidDataException($"tensor '{o}' has more than one producer (node '{NodeLabel(node)}').");
                }
            }
        }

        foreach (var node in TopologicalOrder())
        {
            foreach (var i in node.Input.Where(i => i.Length > 0))
            {
                if (!defined.Contains(i))
                {
                    throw new InvalidDataException($"node '{NodeLabel(node)}' ({node.OpType}) reads '{i}', which nothing defines.");
                }
            }

            foreach (var o in node.Output.Where(o => o.Length > 0))
            {
                defined.Add(o);
            }
        }

        foreach (var o in Proto.Output)
        {
            if (!defined.Contains(o.Name))
            {
                throw new InvalidDataException($"graph output '{o.Name}' is not produced by any node.");
            }
        }

        foreach (var input in Proto.Input)
        {
            var declared = input.Type?.TensorType?.ElemType ?? 0;
            if (Initializer(input.Name) is { } init && declared != 0 && declared != init.DataType)
            {
                throw new InvalidDataException($"input '{input.Name}' is declared with element type {declared}, but its initializer has type {init.DataType}.");
            }
        }

        var names = Proto.Node.Where(n => n.Name.Length > 0).GroupBy(n => n.Name).FirstOrDefault(g => g.Count() > 1);
        if (names is not null)
        {
            throw new InvalidDataException($"node name '{names.Key}' is used {names.Count()} times.");
        }
    }

    /// <summary>Removes nodes that do not contribute to any graph output, then initializers nothing reads. Returns how many nodes went.</summary>
    public int RemoveDeadCode()
    {
        var live = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<string>(Proto.Output.Select(o => o.Name));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.Count > 0)
        {
            var tensor = stack.Pop();
            if (!seen.Add(tensor) || Producer(tensor) is not { } node || !live.Add(node))
            {
                continue;
            }

            foreach (var i in node.Input.Where(i => i.Length > 0))
            {
                stack.Push(i);
            }

            foreach (var i in SubgraphInputs(node))
            {
                stack.Push(i);
            }
        }

        var before = Proto.Node.Count;
        var keep = Proto.Node.Where(live.Contains).ToList();
        Proto.Node.Clear();
        Proto.Node.Add(keep);
        Invalidate();
        RemoveUnusedInitializers();
        return before - keep.Count;
    }

    /// <summary>Removes initializers (and their graph-input entries) that no node reads and no output names.</summary>
    public int RemoveUnusedInitializers()
    {
        var used = new HashSet<string>(Proto.Node.SelectMany(n => n.Input.Concat(SubgraphInputs(n))), StringComparer.Ordinal);
        used.UnionWith(Proto.Output.Select(o => o.Name));
        var dead = Proto.Initializer.Where(t => !used.Contains(t.Name)).ToList();
        foreach (var t in dead)
        {
            Proto.Initializer.Remove(t);
            var input = Proto.Input.FirstOrDefault(i => i.Name == t.Name);
            if (input is not null)
            {
                Proto.Input.Remove(input);
            }
        }

        Invalidate();
        return dead.Count;
    }

    /// <summary>A name no tensor, node or initializer of the graph uses yet, starting from <paramref name="prefix"/>.</summary>
    public string UniqueName(string prefix)
    {
        var taken = new HashSet<string>(Proto.Node.SelectMany(n => n.Output.Append(n.Name)).Concat(Proto.Input.Select(i => i.Name))
            .Concat(Proto.Initializer.Select(t => t.Name)).Concat(Proto.Output.Select(o => o.Name)), StringComparer.Ordinal);
        if (!taken.Contains(prefix))
        {
            return prefix;
        }

        for (var i = 1; ; i++)
        {
            var candidate = $"{prefix}_{i}";
            if (!taken.Contains(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>A node's name, or a description when it has none.</summary>
    public static string NodeLabel(NodeProto node) => node.Name.Length > 0 ? node.Name : $"{node.OpType} -> {string.Join(",", node.Output)}";

    /// <summary>Outer-scope tensors read by a node's subgraphs (If/Loop/Scan bodies).</summary>
    private static IEnumerable<string> SubgraphInputs(NodeProto node)
    {
        foreach (var a in node.Attribute)
        {
            foreach (var g in a.G is null ? a.Graphs : a.Graphs.Append(a.G))
            {
                foreach (var n in g.Node)
                {
                    foreach (var i in n.Input)
                    {
                        yield return i;
                    }
                }
            }
        }
    }

    private Dictionary<string, NodeProto> BuildProducers()
    {
        var map = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in Proto.Node)
        {
            foreach (var o in node.Output.Where(o => o.Length > 0))
            {
                map.TryAdd(o, node);
            }
        }

        return map;
    }

    private Dictionary<string, List<NodeProto>> BuildConsumers()
    {
        var map = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in Proto.Node)
        {
            foreach (var i in node.Input.Where(i => i.Length > 0))
            {
                if (!map.TryGetValue(i, out var list))
                {
                    map[i] = list = [];
                }

                list.Add(node);
            }
        }

        return map;
    }
}

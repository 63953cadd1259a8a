using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>
/// A classifier head found in a graph: the last dense layer before an output (Gemm, or MatMul
/// with an optional Add of a bias), optionally followed by Softmax/LogSoftmax/Identity.
/// </summary>
/// <param name="Output">The graph output the head produces.</param>
/// <param name="Features">The tensor the dense layer reads: [batch, features].</param>
/// <param name="FeatureCount">Its width.</param>
/// <param name="Classes">The current number of classes.</param>
/// <param name="DenseNodes">The dense layer's nodes (Gemm, or MatMul[+Add]).</param>
/// <param name="Activation">The output activation node (Softmax, LogSoftmax), if any.</param>
/// <param name="PassThrough">Identity nodes between the dense layer and the output.</param>
public sealed record ClassifierHead(string Output, string Features, long FeatureCount, long Classes,
    IReadOnlyList<NodeProto> DenseNodes, NodeProto? Activation, IReadOnlyList<NodeProto> PassThrough)
{
    /// <summary>Every node of the head.</summary>
    public IEnumerable<NodeProto> Nodes => DenseNodes.Concat(PassThrough).Concat(Activation is null ? [] : [Activation]);
}

/// <summary>What a new head looks like.</summary>
public sealed class HeadSpec
{
    /// <summary>Number of classes (≥ 1).</summary>
    public int Classes { get; init; }

    /// <summary>Widths of hidden dense layers (each followed by ReLU and, when set, Dropout).</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [];

    /// <summary>
    /// Dropout ratio (0 = none) after each hidden layer, or, for a head without hidden layers, on the features before
    /// the classifier (Keras' GlobalAveragePooling → Dropout → Dense); active only in training graphs.
    /// </summary>
    public float Dropout { get; init; }

    /// <summary>Seed of the PyTorch-Linear-default initialisation.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// How a backbone that ends in a feature map [N,C,H,W] is turned into features for the head (null: only a
    /// classifier, pooled features [N,C] or a 1×1 map are accepted). Not used when the model has a classifier head.
    /// </summary>
    public HeadPool? Pool { get; init; }
}

/// <summary>How a feature map becomes the head's input.</summary>
public enum HeadPool
{
    /// <summary>GlobalAveragePool, then Flatten: C features (Keras' GlobalAveragePooling2D).</summary>
    GlobalAverage,

    /// <summary>Flatten: C·H·W features, so H and W must be known (Keras' Flatten before Dense).</summary>
    Flatten,
}

/// <summary>Finds and replaces classifier heads.</summary>
public static class HeadEdits
{
    /// <summary>Finds the head feeding the first graph output, or null with the reason.</summary>
    public static ClassifierHead? Find(OnnxModel model, out string reason)
    {
        var graph = new OnnxGraph(model.Graph);
        var output = model.Graph.Output.FirstOrDefault()?.Name;
        if (output is null)
        {
            reason = "the model has no outputs";
            return null;
        }

        var passThrough = new List<NodeProto>();
        NodeProto? activation = null;
        var tensor = output;
        var node = graph.Producer(tensor);
        while (node is not null && (node.OpType == "Identity" || (activation is null && node.OpType is "Softmax" or "LogSoftmax")))
        {
            if (node.OpType == "Identity")
            {
                passThrough.Add(node);
            }
            else
            {
                activation = node;
            }

            tensor = node.Input[0];
            node = graph.Producer(tensor);
        }

        if (node is null)
        {
            reason = $"output '{output}' is not computed by a node";
            return null;
        }

        var shapes = ShapeInference.Infer(model);
        var dense = new List<NodeProto>();
        string features;
        TensorProto? weight;
        bool transposed;
        if (node.OpType == "Gemm")
        {
            dense.Add(node);
            features = node.Input[0];
            weight = graph.ConstantOf(node.Input[1]);
            transposed = Attr.Int(node, "transB", 0) != 0;
            if (Attr.Int(node, "transA", 0) != 0)
            {
                reason = $"the Gemm '{OnnxGraph.NodeLabel(node)}' transposes its input";
                return null;
            }
        }
        else if (node.OpType is "Add" or "MatMul")
        {
            var matmul = node;
            if (node.OpType == "Add")
            {
                var bias = graph.ConstantOf(node.Input[1]) is not null ? 1 : graph.ConstantOf(node.Input[0]) is not null ? 0 : -1;
                matmul = bias < 0 ? null : graph.Producer(node.Input[1 - bias]);
                if (matmul is not { OpType: "MatMul" })
                {
                    reason = $"output '{output}' comes from an Add that does not add a constant bias to a MatMul";
                    return null;
                }
            }

            dense.Add(matmul);
            if (!ReferenceEquals(matmul, node))
            {
                dense.Add(node);
            }

            features = matmul.Input[0];
            weight = graph.ConstantOf(matmul.Input[1]);
            transposed = false;
        }
        else
        {
            reason = $"output '{output}' comes from {node.OpType} '{OnnxGraph.NodeLabel(node)}', not from a dense layer (Gemm, or MatMul with an optional bias Add){(activation is null ? "" : $" followed by {activation.OpType}")}";
            return null;
        }

        if (weight is null || weight.Dims.Count != 2)
        {
            reason = $"the dense layer '{OnnxGraph.NodeLabel(dense[0])}' has no constant 2-D weight";
            return null;
        }

        var featureShape = shapes[features];
        if (featureShape.Dims is not null && featureShape.Dims.Length != 2)
        {
            reason = $"the dense layer reads '{features}' of shape {featureShape}, not a [batch, features] matrix";
            return null;
        }

        var (inWidth, outWidth) = transposed ? (weight.Dims[1], weight.Dims[0]) : (weight.Dims[0], weight.Dims[1]);
        reason = "";
        return new ClassifierHead(output, features, inWidth, outWidth, dense, activation, passThrough);
    }

    /// <summary>
    /// Replaces the head with a new dense head (hidden layers with ReLU and Dropout, then N classes),
    /// initialised like PyTorch's Linear default. The output keeps its name and its convention: a
    /// head that ended in Softmax still does.
    /// </summary>
    public static OnnxModel Replace(OnnxModel model, HeadSpec spec)
    {
        if (spec.Classes < 1)
        {
            throw new ArgumentException($"--classes must be at least 1, got {spec.Classes}.");
        }

        if (spec.Hidden.Any(h => h < 1))
        {
            throw new ArgumentException($"--hidden widths must be at least 1, got {string.Join(",", spec.Hidden)}.");
        }

        if (spec.Dropout is < 0 or >= 1)
        {
            throw new ArgumentException($"--dropout must be in [0, 1), got {spec.Dropout}.");
        }

        var head = Find(model, out var reason);
        if (head is null)
        {
            return HeadOnFeatures(model, spec, reason);
        }

        if (spec.Pool is { } pool)
        {
            throw new ArgumentException($"--pool {(pool == HeadPool.Flatten ? "flatten" : "gap")} applies to a backbone that ends in a feature map; " +
                $"this model has a classifier head (its dense layer reads '{head.Features}', {head.FeatureCount} features), which is replaced without pooling.");
        }

        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var removed = head.Nodes.Select(n => (n.Name, n.OpType, Outputs: string.Join(",", n.Output))).ToHashSet();
        var keep = result.Graph.Node.Where(n => !removed.Contains((n.Name, n.OpType, string.Join(",", n.Output)))).ToList();
        result.Graph.Node.Clear();
        result.Graph.Node.Add(keep);
        graph.Invalidate();
        AddDenseLayers(result, graph, head.Features, head.FeatureCount, spec, head.Output, head.Activation, model.Opset);

        // The output's class dimension changes; the rest of its declaration stays.
        var declared = result.Graph.Output.First(o => o.Name == head.Output);
        if (declared.Type?.TensorType?.Shape?.Dim is { Count: 2 } dims)
        {
            dims[1] = new TensorShapeProto.Types.Dimension { DimValue = spec.Classes };
        }

        graph.Invalidate();
        graph.RemoveUnusedInitializers();
        return GraphEdits.Finish(result);
    }

    /// <summary>
    /// A head on a backbone without a classifier: its first output is pooled features [N,C] (or a 1×1 map) or a
    /// feature map pooled as <see cref="HeadSpec.Pool"/> says. The head's output, <c>logits</c>, replaces it.
    /// </summary>
    private static OnnxModel HeadOnFeatures(OnnxModel model, HeadSpec spec, string noHead)
    {
        var output = model.Graph.Output.FirstOrDefault()?.Name ?? throw new InvalidOperationException("the model has no outputs.");
        var shape = ShapeInference.Infer(model)[output];
        string Refusal(string why) => $"cannot put a head on this model: its output '{output}' {why}.";
        if (shape.Dims is not { Length: 2 or 4 } dims || !dims[1].IsKnown)
        {
            throw new InvalidOperationException($"cannot put a head on this model: it has no classifier head to replace ({noHead}), and its output has shape {shape}, " +
                "neither pooled features [N,C] nor a feature map [N,C,H,W] with a known C.");
        }

        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var current = output;
        var width = dims[1].Value;
        var pointwise = dims.Length == 4 && dims[2] is { IsKnown: true, Value: 1 } && dims[3] is { IsKnown: true, Value: 1 };
        if (dims.Length == 4)
        {
            var pool = spec.Pool ?? (pointwise ? HeadPool.Flatten
                : throw new ArgumentException(Refusal($"is a feature map {shape}; choose how it becomes features: --pool gap (global average, {width} features) or --pool flatten (C·H·W features)")));
            if (pool == HeadPool.GlobalAverage && !pointwise)
            {
                var pooled = graph.UniqueName("/features/GlobalAveragePool_output_0");
                result.Graph.Node.Add(Tensors.Node("GlobalAveragePool", graph.UniqueName("/features/GlobalAveragePool"), [current], [pooled]));
                current = pooled;
            }
            else if (pool == HeadPool.Flatten && !pointwise)
            {
                width = dims[2].IsKnown && dims[3].IsKnown ? width * dims[2].Value * dims[3].Value
                    : throw new InvalidOperationException(Refusal($"is a feature map {shape} whose height and width are not known, so --pool flatten cannot size the dense layer; " +
                        "fix the input size first ('onnxcnn graph input-size MODEL --size HxW') or use --pool gap"));
            }

            var flat = graph.UniqueName("/features/Flatten_output_0");
            result.Graph.Node.Add(Tensors.Node("Flatten", graph.UniqueName("/features/Flatten"), [current], [flat], Tensors.IntAttr("axis", 1)));
            current = flat;
            graph.Invalidate();
        }

        var logits = graph.UniqueName("logits");
        AddDenseLayers(result, graph, current, width, spec, logits, null, model.Opset);
        var batch = dims[0];
        result.Graph.Output[0] = ShapeInference.ToValueInfo(logits, new TensorShape(shape.ElementType != 0 ? shape.ElementType : 1, [batch, Dim.Of(spec.Classes)]));
        graph.Invalidate();
        graph.RemoveUnusedInitializers();
        return GraphEdits.Finish(result);
    }

    /// <summary>Hidden layers (Gemm, ReLU, Dropout) and the classifier from <paramref name="features"/> to <paramref name="output"/>, then the activation (if any).</summary>
    private static void AddDenseLayers(OnnxModel result, OnnxGraph graph, string features, long width, HeadSpec spec, string output, NodeProto? activation, long opset)
    {
        var init = new SeededInit(spec.Seed);
        var current = features;
        var layers = spec.Hidden.Append(spec.Classes).ToList();
        if (spec.Hidden.Count == 0 && spec.Dropout > 0)
        {
            current = AddDropout(result, graph, current, 0, spec.Dropout, opset);
        }

        for (var i = 0; i < layers.Count; i++)
        {
            var last = i == layers.Count - 1;
            var prefix = $"head.{i}";
            var w = graph.UniqueName(prefix + ".weight");
            var b = graph.UniqueName(prefix + ".bias");
            result.Graph.Initializer.Add(Tensors.Float(w, init.TorchDefault(layers[i] * width, width), layers[i], width));
            result.Graph.Initializer.Add(Tensors.Float(b, init.TorchDefault(layers[i], width), layers[i]));
            var y = last && activation is null ? output : graph.UniqueName($"/head/{i}/Gemm_output_0");
            result.Graph.Node.Add(Tensors.Node("Gemm", $"/head/{i}/Gemm", [current, w, b], [y], Tensors.IntAttr("transB", 1)));
            graph.Invalidate();
            current = y;
            if (!last)
            {
                var relu = graph.UniqueName($"/head/{i}/Relu_output_0");
                result.Graph.Node.Add(Tensors.Node("Relu", $"/head/{i}/Relu", [current], [relu]));
                current = relu;
                if (spec.Dropout > 0)
                {
                    current = AddDropout(result, graph, current, i, spec.Dropout, opset);
                }

                graph.Invalidate();
            }

            width = layers[i];
        }

        if (activation is not null)
        {
            var node = activation.Clone();
            node.Input[0] = current;
            node.Output[0] = output;
            result.Graph.Node.Add(node);
        }
    }

    private static string AddDropout(OnnxModel result, OnnxGraph graph, string input, int layer, float ratio, long opset)
    {
        var ratioName = graph.UniqueName($"head.{layer}.dropout_ratio");
        result.Graph.Initializer.Add(Tensors.Float(ratioName, [ratio]));
        var dropped = graph.UniqueName($"/head/{layer}/Dropout_output_0");
        result.Graph.Node.Add(opset >= 12
            ? Tensors.Node("Dropout", $"/head/{layer}/Dropout", [input, ratioName], [dropped])
            : Tensors.Node("Dropout", $"/head/{layer}/Dropout", [input], [dropped], Tensors.FloatAttr("ratio", ratio)));
        graph.Invalidate();
        return dropped;
    }
}

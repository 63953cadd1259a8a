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

        var head = Find(model, out var reason) ?? throw new InvalidOperationException(
            $"no classifier head found: {reason}. Cut the model at a feature tensor with 'onnxcnn graph cut MODEL --at TENSOR --pool gap' and put a head on that.");
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var removed = head.Nodes.Select(n => (n.Name, n.OpType, Outputs: string.Join(",", n.Output))).ToHashSet();
        var keep = result.Graph.Node.Where(n => !removed.Contains((n.Name, n.OpType, string.Join(",", n.Output)))).ToList();
        result.Graph.Node.Clear();
        result.Graph.Node.Add(keep);
        graph.Invalidate();

        var init = new SeededInit(spec.Seed);
        var current = head.Features;
        var width = head.FeatureCount;
        var layers = spec.Hidden.Append(spec.Classes).ToList();
        if (spec.Hidden.Count == 0 && spec.Dropout > 0)
        {
            current = AddDropout(result, graph, current, 0, spec.Dropout, model.Opset);
        }

        for (var i = 0; i < layers.Count; i++)
        {
            var last = i == layers.Count - 1;
            var prefix = $"head.{i}";
            var w = graph.UniqueName(prefix + ".weight");
            var b = graph.UniqueName(prefix + ".bias");
            result.Graph.Initializer.Add(Tensors.Float(w, init.TorchDefault(layers[i] * width, width), layers[i], width));
            result.Graph.Initializer.Add(Tensors.Float(b, init.TorchDefault(layers[i], width), layers[i]));
            var y = last && head.Activation is null ? head.Output : graph.UniqueName($"/head/{i}/Gemm_output_0");
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
                    current = AddDropout(result, graph, current, i, spec.Dropout, model.Opset);
                }

                graph.Invalidate();
            }

            width = layers[i];
        }

        if (head.Activation is { } activation)
        {
            var node = activation.Clone();
            node.Input[0] = current;
            node.Output[0] = head.Output;
            result.Graph.Node.Add(node);
        }

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

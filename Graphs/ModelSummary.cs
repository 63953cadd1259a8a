using System.Globalization;
using System.Text;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs;

/// <summary>One row of a summary: a node, its first output's shape and the parameters it uses.</summary>
/// <param name="Name">Node name (or a description when the node has none).</param>
/// <param name="Op">Operator type.</param>
/// <param name="OutputShape">Shape of the first output.</param>
/// <param name="Params">Parameters the node reads.</param>
/// <param name="TrainableParams">Of those, trainable ones (BatchNorm moving statistics are not).</param>
public sealed record SummaryLayer(string Name, string Op, TensorShape OutputShape, long Params, long TrainableParams);

/// <summary>
/// A Keras-style summary of an ONNX model: one row per computing node with its output shape and
/// parameter count, and totals. Parameters: every float weight tensor input of every node
/// (initializer or Constant node, seen through Identity), counted once per node that uses it;
/// scalars, single-element operands and non-weight inputs (shapes, pads, scales, clip bounds) do
/// not count; BatchNormalization moving mean/variance count as non-trainable, as in Keras.
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(IReadOnlyList<SummaryLayer> layers, IReadOnlyList<(string Name, TensorShape Shape)> inputs,
        IReadOnlyList<(string Name, TensorShape Shape)> outputs, long opset)
    {
        Layers = layers;
        Inputs = inputs;
        Outputs = outputs;
        Opset = opset;
        TotalParams = layers.Sum(l => l.Params);
        TrainableParams = layers.Sum(l => l.TrainableParams);
    }

    /// <summary>Rows in topological order (Constant nodes, Identity views of constants and folded shape arithmetic are left out).</summary>
    public IReadOnlyList<SummaryLayer> Layers { get; }

    /// <summary>Graph inputs (initializers excluded) with their shapes.</summary>
    public IReadOnlyList<(string Name, TensorShape Shape)> Inputs { get; }

    /// <summary>Graph outputs with their inferred shapes.</summary>
    public IReadOnlyList<(string Name, TensorShape Shape)> Outputs { get; }

    /// <summary>The ai.onnx opset.</summary>
    public long Opset { get; }

    /// <summary>All parameters.</summary>
    public long TotalParams { get; }

    /// <summary>Trainable parameters.</summary>
    public long TrainableParams { get; }

    /// <summary>Non-trainable parameters (BatchNorm moving statistics).</summary>
    public long NonTrainableParams => TotalParams - TrainableParams;

    /// <summary>Summarises a model; <paramref name="inputShapes"/> overrides input shapes by name.</summary>
    public static ModelSummary Create(OnnxModel model, IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        var graph = new OnnxGraph(model.Graph);
        var shapes = ShapeInference.Infer(model, inputShapes);
        var layers = new List<SummaryLayer>();
        foreach (var node in graph.TopologicalOrder())
        {
            var outputs = node.Output.Where(o => o.Length > 0).ToList();
            if (node.OpType == "Constant" || (node.OpType == "Identity" && graph.ConstantOf(node.Input[0]) is not null)
                || (outputs.Count > 0 && outputs.All(o => shapes.Values.ContainsKey(o)) && node.OpType != "Reshape"))
            {
                continue;
            }

            var (total, trainable) = Parameters.OfNode(node, graph);
            layers.Add(new SummaryLayer(OnnxGraph.NodeLabel(node), node.OpType, outputs.Count > 0 ? shapes[outputs[0]] : TensorShape.Unknown, total, trainable));
        }

        var inputs = model.Graph.Input.Where(i => graph.Initializer(i.Name) is null).Select(i => (i.Name, shapes[i.Name])).ToList();
        var outs = model.Graph.Output.Select(o => (o.Name, shapes[o.Name])).ToList();
        return new ModelSummary(layers, inputs, outs, model.Opset);
    }

    /// <summary>The summary as a fixed-width text table with totals, like Keras' <c>model.summary()</c>.</summary>
    public string ToText()
    {
        var rows = Layers.Select(l => (l.Name, l.Op, Shape: l.OutputShape.ToString(), Params: l.Params.ToString("N0", CultureInfo.InvariantCulture))).ToList();
        var w1 = Math.Max(10, rows.Select(r => r.Name.Length + r.Op.Length + 3).DefaultIfEmpty(0).Max());
        var w2 = Math.Max(12, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max());
        var w3 = Math.Max(7, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        var rule = new string('─', w1 + w2 + w3 + 6);
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"Layer (type)".PadRight(w1)}   {"Output Shape".PadRight(w2)}   {"Param #".PadLeft(w3)}");
        sb.AppendLine(rule);
        foreach (var r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{(r.Name + " (" + r.Op + ")").PadRight(w1)}   {r.Shape.PadRight(w2)}   {r.Params.PadLeft(w3)}");
        }

        sb.AppendLine(rule);
        sb.AppendLine(CultureInfo.InvariantCulture, $"Total params: {TotalParams:N0}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Trainable params: {TrainableParams:N0}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Non-trainable params: {NonTrainableParams:N0}");
        return sb.ToString();
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training.Inspection.Internal;

/// <summary>
/// The gradient of a weighted sum of the logits with respect to an intermediate tensor, as one plain ONNX graph
/// emitted with the training compiler's backward rules (<see cref="BackwardRules"/>): the model's part from the
/// tensor to the logits runs forward, then each node's rule runs in reverse order (<see cref="BackwardWalk"/>), as in
/// <see cref="TrainingCompiler"/>.
/// Inputs: the tensor and <see cref="OutputGradient"/> (the weights, shaped like the logits); output:
/// <see cref="InputGradient"/>.
/// </summary>
internal static class GradientGraph
{
    public const string OutputGradient = "grad_output";

    public const string InputGradient = "grad_input";

    /// <summary>Builds the graph; <paramref name="model"/> must be cleaned as the compiler cleans (every parameter its own initializer).</summary>
    public static OnnxModel Build(OnnxModel model, string from, long[] fromShape, string logits)
    {
        // Opset ≥ 17 for ScatterElements with reduction (MaxPool's backward) and axes as inputs.
        var graphModel = OpsetUpgrade.Upgrade(GraphEdits.Extract(model, [from], [logits]), 17);
        var g = graphModel.Graph;
        var fromInfo = new TensorShape((int)TensorProto.Types.DataType.Float, fromShape.Select(Dim.Of).ToArray());
        g.Input[0] = ShapeInference.ToValueInfo(from, fromInfo);
        var emitter = new GraphEmitter(g);
        var region = new OnnxGraph(g).TopologicalOrder();
        if (region.FirstOrDefault(n => !BackwardRules.Supported.Contains(n.OpType)) is { } unsupported)
        {
            throw new ArgumentException($"node '{OnnxGraph.NodeLabel(unsupported)}' ({unsupported.OpType}) between '{from}' and the class score has no backward rule; choose a later layer.");
        }

        BackwardWalk.AddMaxPoolIndices(region, emitter);
        var shapes = ShapeInference.Infer(graphModel, new Dictionary<string, long[]>(StringComparer.Ordinal) { [from] = fromShape });
        if (shapes[logits].Dims is not { } logitDims || !shapes[logits].IsFullyKnown)
        {
            throw new InvalidOperationException($"the shape of '{logits}' cannot be inferred from '{from}' {OnnxCnn.Runtime.Tensor.FormatShape(fromShape)}.");
        }

        g.Input.Add(ShapeInference.ToValueInfo(OutputGradient, new TensorShape((int)TensorProto.Types.DataType.Float, logitDims)));
        var rules = new BackwardRules(emitter, shapes);
        var parts = BackwardWalk.Run(region, rules, logits, OutputGradient, BackwardWalk.Downstream(region, [from]));
        if (!parts.TryGetValue(from, out var fromParts))
        {
            throw new ArgumentException($"the class score does not depend on '{from}'.");
        }

        g.Node.Add(new NodeProto { OpType = "Identity", Name = "/gradcam/grad_input", Input = { rules.Sum(fromParts) }, Output = { InputGradient } });
        g.Output.Clear();
        g.Output.Add(ShapeInference.ToValueInfo(InputGradient, fromInfo));
        new OnnxGraph(g).RemoveDeadCode();
        new OnnxGraph(g).Validate();
        return graphModel;
    }
}

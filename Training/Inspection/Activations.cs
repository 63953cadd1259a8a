using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Inspection.Internal;

namespace OnnxCnn.Training.Inspection;

/// <summary>
/// Intermediate activations: the outputs of chosen layers for one input, from one ONNX Runtime run of the model with
/// those tensors added as graph outputs (<see cref="GraphEdits.Extract"/>).
/// </summary>
public static class Activations
{
    /// <summary>
    /// The layers shown by default: each Conv layer's output (after its BatchNorm and activation, as a Keras layer
    /// with an activation gives) and each pooling output with a spatial size over 1×1, in graph order, up to the
    /// classifier head.
    /// </summary>
    public static IReadOnlyList<InspectedLayer> DefaultLayers(OnnxModel model) => LayerFinder.Defaults(model);

    /// <summary>
    /// The layers named by <paramref name="patterns"/>: node names (their first output) or tensor names, <c>*</c> and
    /// <c>?</c> as wildcards. A pattern matching nothing is an <see cref="ArgumentException"/> listing a few valid names.
    /// </summary>
    public static IReadOnlyList<InspectedLayer> FindLayers(OnnxModel model, IReadOnlyList<string> patterns) => LayerFinder.Match(model, patterns);

    /// <summary>Runs <paramref name="input"/> (batch 1) through the model and returns each layer's output, in the order given.</summary>
    /// <param name="model">The model.</param>
    /// <param name="input">The model input, e.g. <see cref="InspectionImage.Tensor"/>.</param>
    /// <param name="layers">The layers; null for <see cref="DefaultLayers"/>.</param>
    /// <param name="options">Session options (device, threads); null for the defaults.</param>
    public static IReadOnlyList<LayerActivation> Compute(OnnxModel model, Tensor<float> input, IReadOnlyList<InspectedLayer>? layers = null, SessionOptions? options = null)
    {
        layers ??= DefaultLayers(model);
        if (layers.Count == 0)
        {
            throw new ArgumentException("the model has no Conv or pooling layer with a spatial output; name layers to show.");
        }

        var inputName = LayerFinder.Input(model);
        var tensors = layers.Select(l => l.Tensor).Distinct(StringComparer.Ordinal).ToList();
        if (tensors.FirstOrDefault(t => t == inputName) is { } direct)
        {
            throw new ArgumentException($"'{direct}' is the model input, not a layer output.");
        }

        var exposed = GraphEdits.Extract(model, [inputName], tensors);
        using var session = InferenceSession.FromBytes(exposed.ToBytes(), options);
        using var result = session.Run([new KeyValuePair<string, Tensor>(inputName, input)], tensors);
        return layers.Select(l =>
        {
            var t = result[l.Tensor];
            return new LayerActivation(l, t.Shape.ToArray(), t.As<float>().ToArray());
        }).ToList();
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Inspection.Internal;

namespace OnnxCnn.Training.Inspection;

/// <summary>A Grad-CAM map for one image and class.</summary>
/// <param name="Layer">The feature map it was computed at.</param>
/// <param name="ClassIndex">The class explained.</param>
/// <param name="Score">That class's score: its logit (before any Softmax or Sigmoid).</param>
/// <param name="Logits">Every class's logit (for a one-column binary model: [−z, z]).</param>
/// <param name="Height">Map height (the feature map's).</param>
/// <param name="Width">Map width.</param>
/// <param name="Map">ReLU(Σₖ αₖ·Aₖ), H×W row-major, at the feature map's resolution, not normalised.</param>
/// <param name="Weights">αₖ: the spatial mean of ∂score/∂Aₖ, one per channel.</param>
public sealed record GradCamResult(InspectedLayer Layer, int ClassIndex, float Score, float[] Logits, int Height, int Width, float[] Map, float[] Weights);

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017): the gradient of a class score (the logit before Softmax) with respect to a
/// convolutional feature map A, averaged over space into one weight per channel, then ReLU(Σₖ αₖ·Aₖ). The gradient
/// comes from a small graph the training compiler's backward rules emit (from A to the logits), run by ONNX Runtime
/// beside the model itself with A added as an output; compile once, explain many images.
/// </summary>
public sealed class GradCam : IDisposable
{
    private readonly InferenceSession forward;
    private readonly InferenceSession backward;
    private readonly string input;
    private readonly string logits;
    private readonly bool binary;

    private GradCam(InferenceSession forward, InferenceSession backward, string input, string logits, InspectedLayer layer, int classes, bool binary)
    {
        this.forward = forward;
        this.backward = backward;
        this.input = input;
        this.logits = logits;
        this.binary = binary;
        Layer = layer;
        Classes = classes;
    }

    /// <summary>The feature map explained.</summary>
    public InspectedLayer Layer { get; }

    /// <summary>Number of classes (2 for a one-column binary model).</summary>
    public int Classes { get; }

    /// <summary>
    /// The default layer: the last 4-D tensor with a spatial size over 1×1 that the logits depend on (for a ResNet,
    /// the output of its last block; for a VGG, its last pooling).
    /// </summary>
    public static InspectedLayer DefaultLayer(OnnxModel model)
    {
        var (clean, logits) = Prepare(model);
        return Candidates(clean, logits).LastOrDefault()
            ?? throw new ArgumentException("the model has no convolutional feature map (a 4-D tensor over 1×1) before its logits; Grad-CAM needs one.");
    }

    /// <summary>Compiles Grad-CAM for <paramref name="model"/> at <paramref name="layer"/> (a tensor or node name; null for <see cref="DefaultLayer"/>) for inputs of <paramref name="inputShape"/>.</summary>
    public static GradCam Create(OnnxModel model, IReadOnlyList<long> inputShape, string? layer = null, SessionOptions? options = null)
    {
        var (clean, logits) = Prepare(model);
        var candidates = Candidates(clean, logits);
        var chosen = layer is null
            ? candidates.LastOrDefault() ?? throw new ArgumentException("the model has no convolutional feature map (a 4-D tensor over 1×1) before its logits; Grad-CAM needs one.")
            : Resolve(clean, layer, candidates);
        var inputName = LayerFinder.Input(clean);
        var shapes = ShapeInference.Infer(clean, new Dictionary<string, long[]>(StringComparer.Ordinal) { [inputName] = [.. inputShape] });
        if (shapes[chosen.Tensor] is not { IsFullyKnown: true, Dims: { } dims } || shapes[logits] is not { IsFullyKnown: true, Dims: { } logitDims })
        {
            throw new ArgumentException($"the shape of '{chosen.Tensor}' or of the logits cannot be inferred for input {Tensor.FormatShape(inputShape)}.");
        }

        var fromShape = dims.Select(d => d.Value).ToArray();
        var gradient = GradientGraph.Build(clean, chosen.Tensor, fromShape, logits);
        var exposed = GraphEdits.Extract(clean, [inputName], [logits, chosen.Tensor]);
        var forward = InferenceSession.FromBytes(exposed.ToBytes(), options);
        try
        {
            var columns = (int)logitDims[^1].Value;
            return new GradCam(forward, InferenceSession.FromBytes(gradient.ToBytes(), options), inputName, logits, chosen, columns == 1 ? 2 : columns, columns == 1);
        }
        catch
        {
            forward.Dispose();
            throw;
        }
    }

    /// <summary>The map for <paramref name="classIndex"/> (null: the top class) of one input (batch 1).</summary>
    public GradCamResult Explain(Tensor<float> image, int? classIndex = null)
    {
        using var result = forward.Run([new KeyValuePair<string, Tensor>(input, image)], [logits, Layer.Tensor]);
        var raw = result[logits].As<float>().ToArray();
        var scores = binary ? [-raw[0], raw[0]] : raw;
        if (scores.Length != Classes)
        {
            throw new ArgumentException($"Grad-CAM explains one image at a time; the input has shape {image.ShapeText}.");
        }

        var cls = classIndex ?? Array.IndexOf(scores, scores.Max());
        if (cls < 0 || cls >= Classes)
        {
            throw new ArgumentOutOfRangeException(nameof(classIndex), $"class {cls} is out of range: the model has {Classes} classes.");
        }

        var features = result[Layer.Tensor].As<float>();
        using var seed = Tensor<float>.Filled(0, [.. result[logits].Shape]);
        seed.Span[binary ? 0 : cls] = binary && cls == 0 ? -1 : 1;
        using var gradients = backward.Run(
            [new KeyValuePair<string, Tensor>(Layer.Tensor, features), new KeyValuePair<string, Tensor>(GradientGraph.OutputGradient, seed)],
            [GradientGraph.InputGradient]);
        var (channels, height, width) = ((int)features.Shape[1], (int)features.Shape[2], (int)features.Shape[3]);
        var (map, weights) = Combine(features.Span, gradients[0].Value.As<float>().Span, channels, height * width);
        return new GradCamResult(Layer, cls, scores[cls], scores, height, width, map, weights);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        forward.Dispose();
        backward.Dispose();
    }

    /// <summary>αₖ = mean of the gradient over space; map = ReLU(Σₖ αₖ·Aₖ) (sums in double, as the reference's float64 rounding is below float32's).</summary>
    internal static (float[] Map, float[] Weights) Combine(ReadOnlySpan<float> features, ReadOnlySpan<float> gradient, int channels, int plane)
    {
        var weights = new float[channels];
        var map = new double[plane];
        for (var k = 0; k < channels; k++)
        {
            double sum = 0;
            foreach (var v in gradient.Slice(k * plane, plane))
            {
                sum += v;
            }

            weights[k] = (float)(sum / plane);
            var a = features.Slice(k * plane, plane);
            for (var i = 0; i < plane; i++)
            {
                map[i] += (double)weights[k] * a[i];
            }
        }

        return (map.Select(v => (float)Math.Max(v, 0)).ToArray(), weights);
    }

    /// <summary>The model cleaned as the training compiler cleans it, and its logits (the tensor before a final Softmax or Sigmoid).</summary>
    private static (OnnxModel Clean, string Logits) Prepare(OnnxModel model)
    {
        var (clean, _) = GraphEdits.Clean(model, unshareIdentities: true, constantsAsInitializers: true);
        var output = clean.Graph.Output[0].Name;
        var graph = new OnnxGraph(clean.Graph);
        var logits = HeadEdits.Find(clean, out _)?.Activation is { } activation ? activation.Input[0]
            : graph.Producer(output) is { OpType: "Softmax" or "Sigmoid" or "LogSoftmax" } last ? last.Input[0]
            : output;
        return (clean, logits);
    }

    /// <summary>4-D tensors over 1×1 that the logits depend on, in graph order.</summary>
    private static List<InspectedLayer> Candidates(OnnxModel clean, string logits)
    {
        var graph = new OnnxGraph(clean.Graph);
        var shapes = ShapeInference.Infer(clean);
        var upstream = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([logits]);
        while (stack.Count > 0)
        {
            var tensor = stack.Pop();
            if (upstream.Add(tensor) && graph.Producer(tensor) is { } node)
            {
                foreach (var i in node.Input.Where(i => i.Length > 0))
                {
                    stack.Push(i);
                }
            }
        }

        return graph.TopologicalOrder()
            .Where(n => n.Output.Count > 0 && upstream.Contains(n.Output[0]) && LayerFinder.IsSpatial(shapes[n.Output[0]]))
            .Select(n => new InspectedLayer(OnnxGraph.NodeLabel(n), n.Output[0], n.OpType))
            .ToList();
    }

    private static InspectedLayer Resolve(OnnxModel clean, string layer, List<InspectedLayer> candidates)
    {
        if ((candidates.FirstOrDefault(c => c.Tensor == layer) ?? candidates.FirstOrDefault(c => c.Name == layer)) is { } found)
        {
            return found;
        }

        var known = clean.Graph.Node.Any(n => n.Name == layer || n.Output.Contains(layer));
        var names = candidates.Select(c => c.Tensor).ToList();
        var shown = names.Count <= 5 ? names : [.. names.Take(2), "…", .. names.TakeLast(3)];
        throw new ArgumentException(known
            ? $"layer '{layer}' is not a feature map the class score depends on (a 4-D tensor over 1×1); feature maps include {string.Join(", ", shown)}."
            : $"layer '{layer}' is no tensor or node of the model; feature maps include {string.Join(", ", shown)}.");
    }
}

using Google.Protobuf;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Runtime.Internal;

/// <summary>What a <see cref="Classifier"/> reads from the model file itself: its metadata and what its output holds.</summary>
internal sealed record ClassifierModel(IReadOnlyDictionary<string, string> Metadata, HeadKind Head)
{
    /// <summary>Operators that move or reshape values without changing them: the head reader looks through them.</summary>
    private static readonly HashSet<string> PassThrough = new(StringComparer.Ordinal) { "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast" };

    /// <summary>Reads the model's metadata and the operator behind its first output (external data is not read).</summary>
    /// <exception cref="InvalidDataException">The file is not an ONNX model.</exception>
    public static ClassifierModel Read(string path)
    {
        ModelProto model;
        try
        {
            using var file = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(file);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"model file '{path}' is not an ONNX model: {e.Message}", e);
        }

        var metadata = model.MetadataProps.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        return new ClassifierModel(metadata, HeadOf(model.Graph));
    }

    /// <summary>The labels in the metadata, or null.</summary>
    public IReadOnlyList<string>? Labels => Metadata.TryGetValue(MetadataKeys.Labels, out var text) ? text.Split('\n') : null;

    /// <summary>The preprocessing in the metadata, or null.</summary>
    /// <exception cref="InvalidDataException">The stored spec does not parse.</exception>
    public PreprocessSpec? Preprocess(string path)
    {
        if (!Metadata.TryGetValue(MetadataKeys.Preprocess, out var text))
        {
            return null;
        }

        try
        {
            return PreprocessSpec.Parse(text);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"model '{path}': its metadata '{MetadataKeys.Preprocess}' is not a valid spec: {e.Message}", e);
        }
    }

    private static HeadKind HeadOf(GraphProto? graph)
    {
        if (graph is null || graph.Output.Count == 0)
        {
            return HeadKind.Logits;
        }

        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        var name = graph.Output[0].Name;
        for (var hops = 0; hops < 64 && producers.TryGetValue(name, out var node); hops++)
        {
            switch (node.OpType)
            {
                case "Softmax":
                    return HeadKind.Softmax;
                case "LogSoftmax":
                    return HeadKind.LogSoftmax;
                case "Sigmoid":
                    return HeadKind.Sigmoid;
                case var op when PassThrough.Contains(op) && node.Input.Count > 0:
                    name = node.Input[0];
                    continue;
            }

            break;
        }

        return HeadKind.Logits;
    }
}

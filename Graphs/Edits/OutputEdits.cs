using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>Edits of a model's output convention and metadata; like every edit, each returns a validated copy.</summary>
public static class OutputEdits
{
    /// <summary>
    /// Makes a one-logit (binary) output give P(class 1) through a Sigmoid under the output's name: an output already
    /// computed by a Sigmoid is kept, a Softmax or LogSoftmax over it becomes the Sigmoid (a head that gave
    /// probabilities keeps giving them), anything else gets a Sigmoid appended.
    /// </summary>
    /// <exception cref="InvalidOperationException">The output is not computed by a node.</exception>
    public static OnnxModel AppendSigmoid(OnnxModel model, string? output = null)
    {
        var result = model.Clone();
        var graph = new OnnxGraph(result.Graph);
        var name = output ?? result.Graph.Output.FirstOrDefault()?.Name ?? throw new InvalidOperationException("model has no outputs.");
        switch (graph.Producer(name))
        {
            case { OpType: "Sigmoid" }:
                return result;
            case { OpType: "Softmax" or "LogSoftmax" } activation:
                activation.OpType = "Sigmoid";
                activation.Attribute.Clear();
                break;
            case { } producer:
                var logit = graph.UniqueName(name + "_logit");
                producer.Output[producer.Output.IndexOf(name)] = logit;
                result.Graph.Node.Add(new NodeProto { OpType = "Sigmoid", Name = graph.UniqueName("/head/Sigmoid"), Input = { logit }, Output = { name } });
                break;
            default:
                throw new InvalidOperationException($"output '{name}' is not computed by a node; cannot append its Sigmoid.");
        }

        graph.Invalidate();
        return GraphEdits.Finish(result);
    }

    /// <summary>Sets metadata entries, each replacing any earlier entry of its key (a model fine-tuned again keeps one of each).</summary>
    public static OnnxModel SetMetadata(OnnxModel model, IReadOnlyDictionary<string, string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var result = model.Clone();
        var props = result.Proto.MetadataProps;
        for (var i = props.Count - 1; i >= 0; i--)
        {
            if (entries.ContainsKey(props[i].Key))
            {
                props.RemoveAt(i);
            }
        }

        foreach (var (key, value) in entries)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new ArgumentException("a metadata key must not be empty.", nameof(entries));
            }

            props.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        new OnnxGraph(result.Graph).Validate();
        return result;
    }
}

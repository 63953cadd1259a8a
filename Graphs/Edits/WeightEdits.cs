using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>New values for a model's float initializers (trained weights going back into their graph), as a validated edit.</summary>
public static class WeightEdits
{
    /// <summary>
    /// A copy of <paramref name="model"/> whose named float initializers hold <paramref name="values"/>; the graph,
    /// names, shapes and every other initializer are unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">A name that is not a float initializer, or a value of another element count.</exception>
    public static OnnxModel Substitute(OnnxModel model, IReadOnlyDictionary<string, float[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = model.Clone();
        var initializers = result.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (!initializers.TryGetValue(name, out var tensor) || tensor.DataType != (int)TensorProto.Types.DataType.Float)
            {
                throw new ArgumentException($"the model has no float initializer '{name}'.", nameof(values));
            }

            var count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
            if (count != value.Length)
            {
                throw new ArgumentException($"initializer '{name}' holds {count} values; {value.Length} were given.", nameof(values));
            }

            tensor.ClearRawData();
            tensor.FloatData.Clear();
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(value.AsSpan()));
        }

        new OnnxGraph(result.Graph).Validate();
        return result;
    }
}

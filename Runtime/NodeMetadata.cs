namespace OnnxCnn.Runtime;

/// <summary>One input or output of a model: name, element type and shape.</summary>
public sealed class NodeMetadata
{
    internal NodeMetadata(string name, bool isTensor, TensorElementType elementType, long[] dimensions, string?[] symbols)
    {
        Name = name;
        IsTensor = isTensor;
        ElementType = elementType;
        Dimensions = dimensions;
        SymbolicDimensions = symbols;
    }

    /// <summary>The name in the graph.</summary>
    public string Name { get; }

    /// <summary>False for sequences, maps and other non-tensor values.</summary>
    public bool IsTensor { get; }

    /// <summary>Element type of a tensor.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Dimensions; −1 where the dimension is symbolic or unknown.</summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>Symbolic names (e.g. "batch") where a dimension has one, else null.</summary>
    public IReadOnlyList<string?> SymbolicDimensions { get; }

    /// <summary>The shape as text: numbers, symbol names, or ? for unknown, e.g. <c>[batch,3,224,224]</c>.</summary>
    public string ShapeText => "[" + string.Join(',', Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : SymbolicDimensions[i] ?? "?")) + "]";

    /// <summary>True when <paramref name="shape"/> fits this input (same rank, equal fixed dimensions).</summary>
    public bool Accepts(IReadOnlyList<long> shape)
    {
        if (shape.Count != Dimensions.Count)
        {
            return false;
        }

        for (var i = 0; i < shape.Count; i++)
        {
            if (Dimensions[i] >= 0 && Dimensions[i] != shape[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {(IsTensor ? ElementType.Name() : "non-tensor")}{ShapeText}";
}

/// <summary>A model's metadata (<c>ModelProto</c> fields and <c>metadata_props</c>).</summary>
public sealed class ModelMetadata
{
    internal ModelMetadata(string producer, string graphName, string description, long version, IReadOnlyDictionary<string, string> custom)
    {
        ProducerName = producer;
        GraphName = graphName;
        Description = description;
        Version = version;
        Custom = custom;
    }

    /// <summary>The producer (e.g. "pytorch").</summary>
    public string ProducerName { get; }

    /// <summary>The graph's name.</summary>
    public string GraphName { get; }

    /// <summary>The model's doc string.</summary>
    public string Description { get; }

    /// <summary>model_version.</summary>
    public long Version { get; }

    /// <summary>metadata_props (OnnxCnn stores labels and the preprocessing spec there).</summary>
    public IReadOnlyDictionary<string, string> Custom { get; }
}

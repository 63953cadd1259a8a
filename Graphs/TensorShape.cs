using System.Globalization;

namespace OnnxCnn.Graphs;

/// <summary>One dimension: a known size, a symbol (e.g. "batch"), or unknown.</summary>
public readonly record struct Dim
{
    private Dim(long value, string? symbol)
    {
        Value = value;
        Symbol = symbol;
    }

    /// <summary>The size, or −1 when not known.</summary>
    public long Value { get; }

    /// <summary>The symbol of a symbolic dimension, else null.</summary>
    public string? Symbol { get; }

    /// <summary>True for a known size.</summary>
    public bool IsKnown => Value >= 0;

    /// <summary>An unknown dimension.</summary>
    public static Dim Unknown => new(-1, null);

    /// <summary>A known size.</summary>
    public static Dim Of(long value) => value < 0 ? Unknown : new Dim(value, null);

    /// <summary>A symbolic dimension.</summary>
    public static Dim Sym(string symbol) => new(-1, symbol);

    /// <inheritdoc/>
    public override string ToString() => IsKnown ? Value.ToString(CultureInfo.InvariantCulture) : Symbol ?? "?";
}

/// <summary>A tensor's element type (ONNX DataType number) and dimensions (null rank = unknown).</summary>
/// <param name="ElementType">ONNX data type number; 0 when unknown.</param>
/// <param name="Dims">Dimensions, or null when even the rank is unknown.</param>
public sealed record TensorShape(int ElementType, Dim[]? Dims)
{
    /// <summary>A shape with nothing known.</summary>
    public static TensorShape Unknown { get; } = new(0, null);

    /// <summary>True when every dimension is a known size.</summary>
    public bool IsFullyKnown => Dims is not null && Dims.All(d => d.IsKnown);

    /// <summary>Product of the dimensions when all are known, else −1.</summary>
    public long ElementCount => IsFullyKnown ? Dims!.Aggregate(1L, (a, d) => a * d.Value) : -1;

    /// <summary>The rank, or −1 when unknown.</summary>
    public int Rank => Dims?.Length ?? -1;

    /// <summary>Like Keras: <c>[batch,4,4,512]</c>, <c>?</c> for unknown.</summary>
    public override string ToString() => Dims is null ? "?" : "[" + string.Join(",", Dims.Select(d => d.ToString())) + "]";

    /// <summary>True when both have the same element type and the same dimensions.</summary>
    public bool SameAs(TensorShape other) =>
        ElementType == other.ElementType && (Dims is null ? other.Dims is null : other.Dims is not null && Dims.SequenceEqual(other.Dims));
}

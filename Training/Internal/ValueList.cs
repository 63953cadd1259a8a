using System.Collections;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// A read-only list compared and printed by its items, so a settings record holding one (<see cref="FineTuneOptions.Hidden"/>,
/// <see cref="TrainingSpec.Trainable"/>, …) equals another with the same settings and prints them, not a type name.
/// A copy of what it was made from: the settings cannot change behind the record's back.
/// </summary>
internal sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private readonly T[] items;

    private ValueList(T[] items) => this.items = items;

    /// <summary>The empty list.</summary>
    public static ValueList<T> Empty { get; } = new([]);

    /// <summary>A copy of <paramref name="source"/> (itself when it is one already).</summary>
    public static ValueList<T> Of(IEnumerable<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source as ValueList<T> ?? (source.ToArray() is { Length: > 0 } copy ? new ValueList<T>(copy) : Empty);
    }

    public int Count => items.Length;

    public T this[int index] => items[index];

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(ValueList<T>? other) => other is not null && items.AsSpan().SequenceEqual(other.items, EqualityComparer<T>.Default);

    public override bool Equals(object? obj) => obj is ValueList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var item in items)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    /// <summary>The items as <c>[a, b, c]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", items) + "]";
}

/// <summary>Makes <see cref="ValueList{T}"/>s.</summary>
internal static class ValueList
{
    public static ValueList<T> Of<T>(IEnumerable<T> source) => ValueList<T>.Of(source);
}

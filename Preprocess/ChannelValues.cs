using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace OnnxCnn.Preprocess;

/// <summary>
/// One value per colour channel, in the tensor's channel order: a <see cref="PreprocessSpec"/>'s mean or std.
/// Immutable and compared by value, so the shared presets (<see cref="PreprocessSpec.ImageNet"/> …) cannot be
/// changed through a reference, and two specs that print alike are equal. Written <c>[0.485f, 0.456f, 0.406f]</c>.
/// </summary>
[CollectionBuilder(typeof(ChannelValues), nameof(Create))]
public readonly record struct ChannelValues(float First, float Second, float Third) : IReadOnlyList<float>
{
    /// <summary>The value of channel 0, 1 or 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channel"/> is not 0, 1 or 2.</exception>
    public float this[int channel] => channel switch
    {
        0 => First,
        1 => Second,
        2 => Third,
        _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "a channel is 0, 1 or 2."),
    };

    /// <summary>Always 3.</summary>
    public int Count => 3;

    /// <summary>The same value for every channel.</summary>
    public static ChannelValues All(float value) => new(value, value, value);

    /// <summary>Three values (the collection-expression form).</summary>
    /// <exception cref="ArgumentException">There are not exactly three values.</exception>
    public static ChannelValues Create(ReadOnlySpan<float> values) =>
        values.Length == 3 ? new(values[0], values[1], values[2]) : throw new ArgumentException($"one value per channel: 3 values, not {values.Length}.", nameof(values));

    /// <inheritdoc/>
    public IEnumerator<float> GetEnumerator()
    {
        yield return First;
        yield return Second;
        yield return Third;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The values as a spec writes them, <c>a:b:c</c> (round-trip precision).</summary>
    public override string ToString() => string.Join(':', this.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}

using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// The tensors a training step carries to the next (parameters, BatchNorm running statistics,
/// optimiser state): one host set fed as inputs, or two sets on the session's device that the
/// bound step alternates between — it reads the current set and writes the next, and only a
/// finished step with a finite loss makes the next set current. When the sets live on a device,
/// host reads go through a mirror refreshed on demand (not every step).
/// </summary>
internal sealed class CarriedState : IDisposable
{
    private readonly Tensor<float>[][] sets;
    private readonly Tensor<float>[]? mirror;
    private readonly StateTransfer? transfer;
    private readonly Dictionary<string, int> index;
    private int current;
    private bool mirrorFresh;

    /// <param name="names">The carried tensors, in input order.</param>
    /// <param name="shapes">Their shapes.</param>
    /// <param name="setCount">1 (fed each step) or 2 (alternating, bound once).</param>
    /// <param name="allocate">Allocates a set tensor (host or device).</param>
    /// <param name="transfer">Copies between the sets and a host mirror; null when the sets are host memory read directly.</param>
    public CarriedState(IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, int setCount, Func<long[], Tensor<float>> allocate, StateTransfer? transfer)
    {
        Names = names;
        Shapes = shapes;
        index = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        sets = new Tensor<float>[setCount][];
        for (var s = 0; s < setCount; s++)
        {
            sets[s] = shapes.Select(allocate).ToArray();
        }

        this.transfer = transfer;
        if (transfer is not null)
        {
            mirror = shapes.Select(shape => Tensor<float>.Create(shape)).ToArray();
        }
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<long[]> Shapes { get; }

    /// <summary>True when the sets are bound on a device and read through the host mirror.</summary>
    public bool Mirrored => mirror is not null;

    /// <summary>Set A: the values after the last finished step.</summary>
    public Tensor<float>[] Current => sets[current];

    /// <summary>The set with index <paramref name="s"/> (0 or 1), for binding once.</summary>
    public Tensor<float>[] Set(int s) => sets[s];

    /// <summary>Which set is current (0 or 1).</summary>
    public int CurrentIndex => current;

    /// <summary>Makes set B (just written by a step) current.</summary>
    public void Swap()
    {
        current = (current + 1) % sets.Length;
        mirrorFresh = false;
    }

    public bool Contains(string name) => index.ContainsKey(name);

    public int IndexOf(string name) => index.TryGetValue(name, out var i) ? i
        : throw new KeyNotFoundException($"'{name}' is not a trainable parameter, running statistic or optimiser state of this training graph.");

    /// <summary>The current value on the host (valid until the next step or write).</summary>
    public ReadOnlySpan<float> Read(int i)
    {
        if (mirror is null)
        {
            return Current[i].Span;
        }

        if (!mirrorFresh)
        {
            transfer!.Copy(Current, mirror);
            mirrorFresh = true;
        }

        return mirror[i].Span;
    }

    /// <summary>Replaces every current value (sizes checked by the caller), then moves them to the device if mirrored.</summary>
    public void WriteAll(Func<int, ReadOnlySpan<byte>> bytes)
    {
        var targets = mirror ?? Current;
        for (var i = 0; i < targets.Length; i++)
        {
            bytes(i).CopyTo(targets[i].Bytes);
        }

        if (mirror is not null)
        {
            transfer!.Copy(mirror, Current);
            mirrorFresh = true;
        }
    }

    public void Dispose()
    {
        foreach (var tensor in sets.SelectMany(s => s).Concat(mirror ?? []))
        {
            tensor.Dispose();
        }
    }
}

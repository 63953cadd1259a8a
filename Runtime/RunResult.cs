namespace OnnxCnn.Runtime;

/// <summary>A run's outputs, by name and in order. Disposing it releases every output tensor.</summary>
public sealed class RunResult : IReadOnlyList<KeyValuePair<string, Tensor>>, IDisposable
{
    private readonly KeyValuePair<string, Tensor>[] items;

    internal RunResult(KeyValuePair<string, Tensor>[] items) => this.items = items;

    /// <summary>Number of outputs.</summary>
    public int Count => items.Length;

    /// <summary>Output at a position.</summary>
    public KeyValuePair<string, Tensor> this[int index] => items[index];

    /// <summary>Output by name; an exception naming the outputs present if it is not there.</summary>
    public Tensor this[string name]
    {
        get
        {
            foreach (var (key, value) in items)
            {
                if (key == name)
                {
                    return value;
                }
            }

            throw new KeyNotFoundException($"no output '{name}'; outputs are: {string.Join(", ", items.Select(i => i.Key))}.");
        }
    }

    /// <summary>The first output as a typed tensor.</summary>
    public Tensor<T> First<T>()
        where T : unmanaged => items[0].Value.As<T>();

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, Tensor>>)items).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Releases every output.</summary>
    public void Dispose()
    {
        foreach (var (_, tensor) in items)
        {
            tensor.Dispose();
        }
    }
}

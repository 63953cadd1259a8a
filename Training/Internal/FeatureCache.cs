using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// The frozen prefix's output per sample for feature-cache training: in memory up to a byte budget, the rest in
/// one temporary file of fixed-size records (appended once in the first epoch, read back by offset afterwards).
/// Disposing deletes the file, so a run that ends or fails leaves nothing behind.
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    /// <summary>File name of the training features' spill file under the run's <c>artifacts/</c> folder.</summary>
    public const string SpillFileName = "feature_cache.tmp";

    /// <summary>File name of the validation features' spill file.</summary>
    public const string ValidationSpillFileName = "feature_cache_validation.tmp";

    private readonly Dictionary<int, float[]> memory = [];
    private readonly Dictionary<int, long> spilled = [];
    private readonly long budgetBytes;
    private readonly string spillPath;
    private SafeFileHandle? file;
    private long fileLength;

    public FeatureCache(long budgetBytes, string spillPath)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        this.budgetBytes = budgetBytes;
        this.spillPath = spillPath;
    }

    /// <summary>One sample's shape (without the batch dimension), set by the first <see cref="Add"/>.</summary>
    public long[]? SampleShape { get; private set; }

    /// <summary>Floats per sample.</summary>
    public int SampleSize { get; private set; }

    /// <summary>Samples cached.</summary>
    public int Count => memory.Count + spilled.Count;

    /// <summary>Samples held in the spill file.</summary>
    public int SpilledCount => spilled.Count;

    /// <summary>Whether a sample is cached.</summary>
    public bool Contains(int index) => memory.ContainsKey(index) || spilled.ContainsKey(index);

    /// <summary>Caches one sample (a sample added again keeps its first value: the prefix is deterministic).</summary>
    public void Add(int index, ReadOnlySpan<long> sampleShape, ReadOnlySpan<float> features)
    {
        if (SampleShape is null)
        {
            SampleShape = sampleShape.ToArray();
            SampleSize = features.Length;
        }
        else if (features.Length != SampleSize)
        {
            throw new InvalidOperationException($"feature cache: sample {index} has {features.Length} values, earlier samples {SampleSize}.");
        }

        if (Contains(index))
        {
            return;
        }

        var bytes = (long)SampleSize * sizeof(float);
        if ((memory.Count + 1) * bytes <= budgetBytes)
        {
            memory[index] = features.ToArray();
            return;
        }

        file ??= File.OpenHandle(spillPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.None);
        RandomAccess.Write(file, MemoryMarshal.AsBytes(features), fileLength);
        spilled[index] = fileLength;
        fileLength += bytes;
    }

    /// <summary>Caches each sample of a batch of prefix outputs under its dataset index.</summary>
    public void AddBatch(ReadOnlySpan<int> indices, Runtime.Tensor<float> features)
    {
        var size = (int)(features.ElementCount / indices.Length);
        long[] sampleShape = [.. features.Shape.Skip(1)];
        for (var i = 0; i < indices.Length; i++)
        {
            Add(indices[i], sampleShape, features.Span.Slice(i * size, size));
        }
    }

    /// <summary>The cached samples <paramref name="indices"/> as one batch tensor (the caller disposes it).</summary>
    public Runtime.Tensor<float> Gather(IReadOnlyList<int> indices)
    {
        var features = Runtime.Tensor<float>.Create([indices.Count, .. SampleShape!]);
        for (var i = 0; i < indices.Count; i++)
        {
            CopyTo(indices[i], features.Span.Slice(i * SampleSize, SampleSize));
        }

        return features;
    }

    /// <summary>Bytes of samples held in memory.</summary>
    public long MemoryBytes => (long)memory.Count * SampleSize * sizeof(float);

    /// <summary>Copies a cached sample into <paramref name="destination"/> (<see cref="SampleSize"/> floats).</summary>
    public void CopyTo(int index, Span<float> destination)
    {
        if (memory.TryGetValue(index, out var values))
        {
            values.CopyTo(destination);
            return;
        }

        var target = MemoryMarshal.AsBytes(destination[..SampleSize]);
        var offset = spilled[index];
        while (target.Length > 0)
        {
            var read = RandomAccess.Read(file!, target, offset);
            if (read == 0)
            {
                throw new EndOfStreamException($"feature cache '{spillPath}' ended before sample {index}'s record.");
            }

            target = target[read..];
            offset += read;
        }
    }

    public void Dispose()
    {
        file?.Dispose();
        file = null;
        if (File.Exists(spillPath))
        {
            File.Delete(spillPath);
        }

        memory.Clear();
        spilled.Clear();
    }
}

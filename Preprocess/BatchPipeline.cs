using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace OnnxCnn.Preprocess;

/// <summary>How a <see cref="BatchPipeline"/> prepares batches.</summary>
public sealed class PipelineOptions
{
    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Decode/transform threads (default: one per core).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Batches prepared ahead of the consumer.</summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>Resize/crop/normalise spec; it must give a fixed output size.</summary>
    public PreprocessSpec Preprocess { get; init; } = PreprocessSpec.ImageNet;

    /// <summary>Augmentation (training data only), or null.</summary>
    public AugmentSpec? Augment { get; init; }

    /// <summary>Seed of augmentation draws.</summary>
    public long Seed { get; init; }

    /// <summary>Make an unreadable image an error instead of a skipped sample.</summary>
    public bool Strict { get; init; }
}

/// <summary>A batch of preprocessed samples in one pooled, contiguous float buffer (NCHW or NHWC per the spec).</summary>
public sealed class ImageBatch : IDisposable
{
    private float[]? data;

    internal ImageBatch(float[] data, int capacity, int channels, int height, int width)
    {
        this.data = data;
        Labels = new int[capacity];
        Indices = new int[capacity];
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Samples in the batch (smaller than the batch size for the last batch or after skips).</summary>
    public int Count { get; internal set; }

    /// <summary>Channels (3).</summary>
    public int Channels { get; }

    /// <summary>Height of each sample.</summary>
    public int Height { get; }

    /// <summary>Width of each sample.</summary>
    public int Width { get; }

    /// <summary>Values per sample.</summary>
    public int SampleSize => Channels * Height * Width;

    /// <summary>Labels of the samples (first <see cref="Count"/> entries).</summary>
    public int[] Labels { get; }

    /// <summary>Dataset indices of the samples (first <see cref="Count"/> entries).</summary>
    public int[] Indices { get; }

    /// <summary>The pooled array behind <see cref="Values"/> (for zero-copy wrapping; valid until disposed).</summary>
    public float[] Buffer => data ?? throw new ObjectDisposedException(nameof(ImageBatch));

    /// <summary>The samples' values, contiguous.</summary>
    public Span<float> Values => Buffer.AsSpan(0, Count * SampleSize);

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        var d = Interlocked.Exchange(ref data, null);
        if (d is not null)
        {
            ArrayPool<float>.Shared.Return(d);
        }
    }
}

/// <summary>
/// Parallel decode + augment + resize/crop + normalise into pooled batch buffers, with bounded
/// prefetch. Output is deterministic for a given order, seed and epoch whatever the worker count.
/// An unreadable image is skipped with a warning naming it (and counted) unless
/// <see cref="PipelineOptions.Strict"/> is set.
/// </summary>
public sealed class BatchPipeline(ImageDataset dataset, PipelineOptions options, Func<int, RgbImage> load)
{
    private readonly Augmenter? augmenter = options.Augment is { } a ? new Augmenter(a, options.Seed) : null;
    private readonly List<string> skipped = [];
    private readonly Lock gate = new();

    /// <summary>Raised (from a worker thread) when a sample is skipped; the text names the file and the reason.</summary>
    public event Action<string>? Warning;

    /// <summary>Sources skipped so far (each once).</summary>
    public IReadOnlyList<string> Skipped
    {
        get
        {
            lock (gate)
            {
                return [.. skipped];
            }
        }
    }

    /// <summary>The fixed per-sample output size of the spec (C, H, W).</summary>
    public (int Height, int Width) OutputSize => FixedSize(options.Preprocess);

    /// <summary>Produces the batches of one epoch over <paramref name="order"/> (dataset indices); dispose each batch.</summary>
    public async IAsyncEnumerable<ImageBatch> Epoch(IReadOnlyList<int> order, int epoch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (options.BatchSize < 1 || options.Workers < 1 || options.Prefetch < 1)
        {
            throw new ArgumentException($"batch size, workers and prefetch must be at least 1 (got {options.BatchSize}, {options.Workers}, {options.Prefetch}).");
        }

        var (height, width) = OutputSize;
        var channel = Channel.CreateBounded<ImageBatch>(new BoundedChannelOptions(options.Prefetch) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(() => Produce(channel.Writer, order, epoch, height, width, cancellationToken), cancellationToken);
        await foreach (var batch in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return batch;
        }

        await producer.ConfigureAwait(false);
    }

    private async Task Produce(ChannelWriter<ImageBatch> writer, IReadOnlyList<int> order, int epoch, int height, int width, CancellationToken cancellationToken)
    {
        Exception? error = null;
        try
        {
            var sampleSize = 3 * height * width;
            for (var start = 0; start < order.Count; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(options.BatchSize, order.Count - start);
                var batch = new ImageBatch(ArrayPool<float>.Shared.Rent(count * sampleSize), count, 3, height, width);
                var ok = new bool[count];
                try
                {
                    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = cancellationToken }, i =>
                    {
                        ok[i] = Prepare(order[start + i], epoch, batch.Buffer.AsSpan(i * sampleSize, sampleSize), height, width);
                    });
                }
                catch
                {
                    batch.Dispose();
                    throw;
                }

                // Skipped samples leave holes: close them up, keeping order.
                var filled = 0;
                for (var i = 0; i < count; i++)
                {
                    if (!ok[i])
                    {
                        continue;
                    }

                    if (filled != i)
                    {
                        batch.Buffer.AsSpan(i * sampleSize, sampleSize).CopyTo(batch.Buffer.AsSpan(filled * sampleSize, sampleSize));
                    }

                    batch.Indices[filled] = order[start + i];
                    batch.Labels[filled] = dataset.Items[order[start + i]].Label;
                    filled++;
                }

                batch.Count = filled;
                if (filled == 0)
                {
                    batch.Dispose();
                    continue;
                }

                await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            // Several workers can fail in the same batch (every sample of a corrupt folder): the
            // caller gets the first failure itself, not a wrapper whose shape depends on timing.
            error = e is AggregateException a ? a.Flatten().InnerExceptions[0] : e;
        }
        finally
        {
            writer.TryComplete(error);
        }
    }

    private bool Prepare(int index, int epoch, Span<float> destination, int height, int width)
    {
        var item = dataset.Items[index];
        RgbImage image;
        try
        {
            image = load(index);
        }
        catch (Exception e) when (!options.Strict && e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            bool first;
            lock (gate)
            {
                // Each unreadable file is reported and counted once, however many epochs meet it.
                first = !skipped.Contains(item.Source);
                if (first)
                {
                    skipped.Add(item.Source);
                }
            }

            if (first)
            {
                Warning?.Invoke($"skipped '{item.Source}': {e.Message}");
            }

            return false;
        }

        using (image)
        {
            if (augmenter is null)
            {
                // Resize, crop and normalise in one pass straight into the batch tensor.
                var size = ImageTransforms.ApplyToTensor(image, options.Preprocess, destination);
                CheckSize(item, size, width, height, options.Preprocess);
                return true;
            }

            using var prepared = augmenter.Apply(image, options.Preprocess, epoch, index);
            CheckSize(item, (prepared.Width, prepared.Height), width, height, options.Preprocess);
            ImageTransforms.ToTensor(prepared, options.Preprocess, destination);
            augmenter.Erase(destination, width, height, epoch, index, options.Preprocess.Nhwc);
        }

        return true;
    }

    private static void CheckSize(DatasetItem item, (int Width, int Height) size, int width, int height, PreprocessSpec spec)
    {
        // A text line narrower than the spec's width is padded by ToTensor.
        var lineWidth = spec is { Resize: ResizeMode.TextLine, CropHeight: 0 } ? Math.Min(size.Width, width) : width;
        if (size.Width != lineWidth || size.Height != height)
        {
            throw new InvalidOperationException($"'{item.Source}' came out {size.Width}×{size.Height}, not {width}×{height}.");
        }
    }

    /// <summary>
    /// The usual loader: pixel rows from memory, files decoded by the one decode rule
    /// (<see cref="DecodeOptions.For"/>: DCT-domain downscaling when the image is at least twice the
    /// size the spec needs, so the final resize still antialiases).
    /// </summary>
    public static Func<int, RgbImage> DefaultLoader(ImageDataset dataset, PreprocessSpec spec)
    {
        if (dataset.IsPixelRows)
        {
            return dataset.PixelImage;
        }

        var options = DecodeOptions.For(spec);
        return index => ImageDecoder.DecodeFile(dataset.Items[index].Source, options);
    }

    private static (int Height, int Width) FixedSize(PreprocessSpec spec) =>
        spec.OutputSize ?? throw new ArgumentException($"preprocess spec '{spec}' does not give a fixed size; batches need crop=HxW, resize=HxW, fit=HxW or textline=HxW.");
}

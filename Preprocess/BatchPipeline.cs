using System.Buffers;
using System.Runtime.CompilerServices;
using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess;

/// <summary>How a <see cref="BatchPipeline"/> prepares batches.</summary>
public sealed class PipelineOptions
{
    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Decode/transform threads at most (default: one per core); dedicated threads, not the thread pool's.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Decode/transform threads to start with (default: <see cref="Workers"/>); one more starts each time the consumer
    /// has to wait for a batch after the first, up to <see cref="Workers"/>. Fewer suit a consumer that runs a model on
    /// the same cores.
    /// </summary>
    public int StartWorkers { get; init; }

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

    /// <summary>The epoch the batch was drawn for (augmentation is a function of it).</summary>
    public int Epoch { get; internal set; }

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
/// Parallel decode + augment + resize/crop + normalise into pooled batch buffers on dedicated worker threads, with
/// bounded prefetch, so a consumer that runs a model meanwhile keeps the model busy. Output is deterministic for a given order, seed and epoch whatever the worker count.
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
        using var prefetch = Start([(order, epoch)], cancellationToken);
        while (await prefetch.TakeAsync().ConfigureAwait(false) is { } batch)
        {
            yield return batch;
        }
    }

    /// <summary>
    /// As <see cref="Epoch"/>, for a consumer that runs synchronously (a training step or an inference run): it waits
    /// for each batch on its own thread, and the workers prepare the next batches meanwhile.
    /// </summary>
    public IEnumerable<ImageBatch> Batches(IReadOnlyList<int> order, int epoch, CancellationToken cancellationToken = default) =>
        Batches([(order, epoch)], cancellationToken);

    /// <summary>
    /// The batches of several epochs in a row (each as <see cref="Batches(IReadOnlyList{int}, int, CancellationToken)"/> gives
    /// it, <see cref="ImageBatch.Epoch"/> telling them apart): the workers run on into the next epoch's first batches
    /// while the consumer finishes an epoch and validates, so a new epoch does not start by waiting for its first batch.
    /// </summary>
    public IEnumerable<ImageBatch> Batches(IReadOnlyList<(IReadOnlyList<int> Order, int Epoch)> epochs, CancellationToken cancellationToken = default)
    {
        var prefetch = Start(epochs, cancellationToken);
        return Drain(prefetch);
    }

    private static IEnumerable<ImageBatch> Drain(BatchPrefetch<ImageBatch> prefetch)
    {
        using (prefetch)
        {
            while (prefetch.Take() is { } batch)
            {
                yield return batch;
            }
        }
    }

    /// <summary>
    /// Starts the workers on an epoch: up to <see cref="PipelineOptions.Prefetch"/> finished batches wait for the
    /// consumer while the workers fill the next one, every worker on the oldest unfinished batch first.
    /// </summary>
    private BatchPrefetch<ImageBatch> Start(IReadOnlyList<(IReadOnlyList<int> Order, int Epoch)> epochs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        foreach (var (order, _) in epochs)
        {
            ArgumentNullException.ThrowIfNull(order, nameof(epochs));
        }

        if (options.BatchSize < 1 || options.Workers < 1 || options.Prefetch < 1)
        {
            throw new ArgumentException($"batch size, workers and prefetch must be at least 1 (got {options.BatchSize}, {options.Workers}, {options.Prefetch}).");
        }

        var (height, width) = OutputSize;
        cancellationToken.ThrowIfCancellationRequested();
        return new BatchPrefetch<ImageBatch>(new EpochSource(this, dataset, options.BatchSize, epochs, height, width), options.Workers, options.Prefetch + 1, cancellationToken, Math.Clamp(options.StartWorkers, 0, options.Workers));
    }

    /// <summary>Epochs' batches for the prefetching workers: consecutive runs of each epoch's order, skipped samples' holes closed.</summary>
    private sealed class EpochSource : IBatchSource<ImageBatch>
    {
        private readonly BatchPipeline pipeline;
        private readonly ImageDataset dataset;
        private readonly int batchSize;
        private readonly IReadOnlyList<(IReadOnlyList<int> Order, int Epoch)> epochs;
        private readonly int[] firstBatch;
        private readonly int height;
        private readonly int width;
        private readonly int sampleSize;

        public EpochSource(BatchPipeline pipeline, ImageDataset dataset, int batchSize, IReadOnlyList<(IReadOnlyList<int> Order, int Epoch)> epochs, int height, int width)
        {
            this.pipeline = pipeline;
            this.dataset = dataset;
            this.batchSize = batchSize;
            this.epochs = epochs;
            this.height = height;
            this.width = width;
            sampleSize = 3 * height * width;
            firstBatch = new int[epochs.Count + 1];
            for (var e = 0; e < epochs.Count; e++)
            {
                firstBatch[e + 1] = firstBatch[e] + ((epochs[e].Order.Count + batchSize - 1) / batchSize);
            }
        }

        public int BatchCount => firstBatch[^1];

        public int SamplesIn(int batch)
        {
            var (e, local) = Locate(batch);
            return Math.Min(batchSize, epochs[e].Order.Count - (local * batchSize));
        }

        public ImageBatch Create(int batch)
        {
            var count = SamplesIn(batch);
            return new ImageBatch(ArrayPool<float>.Shared.Rent(count * sampleSize), count, 3, height, width) { Epoch = epochs[Locate(batch).Epoch].Epoch };
        }

        public void Fill(ImageBatch target, int batch, int sample)
        {
            var (e, local) = Locate(batch);
            var index = epochs[e].Order[(local * batchSize) + sample];
            var ok = pipeline.Prepare(index, epochs[e].Epoch, target.Buffer.AsSpan(sample * sampleSize, sampleSize), height, width);
            target.Indices[sample] = ok ? index : -1;
        }

        /// <summary>The epoch (position in the list) and the batch within it of a batch number.</summary>
        private (int Epoch, int Batch) Locate(int batch)
        {
            var e = Array.BinarySearch(firstBatch, batch);
            if (e < 0)
            {
                e = ~e - 1;
            }

            // An epoch with no samples has no batches: step past it to the epoch that holds the batch.
            while (firstBatch[e + 1] <= batch)
            {
                e++;
            }

            return (e, batch - firstBatch[e]);
        }

        public ImageBatch? Complete(ImageBatch target, int batch)
        {
            // Skipped samples leave holes: close them up, keeping order.
            var count = SamplesIn(batch);
            var filled = 0;
            for (var i = 0; i < count; i++)
            {
                var index = target.Indices[i];
                if (index < 0)
                {
                    continue;
                }

                if (filled != i)
                {
                    target.Buffer.AsSpan(i * sampleSize, sampleSize).CopyTo(target.Buffer.AsSpan(filled * sampleSize, sampleSize));
                }

                target.Indices[filled] = index;
                target.Labels[filled] = dataset.Items[index].Label;
                filled++;
            }

            target.Count = filled;
            if (filled == 0)
            {
                target.Dispose();
                return null;
            }

            return target;
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

            CheckSize(item, augmenter.ApplyToTensor(image, options.Preprocess, epoch, index, destination), width, height, options.Preprocess);
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

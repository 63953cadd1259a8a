using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// One run's worth of image files for <see cref="Classifier.ClassifyEach"/>: the pooled input tensor their pixels go
/// into, and per file the reason it could not be read (null when it was). After <see cref="Complete"/> the readable
/// images are the first <see cref="Kept"/> rows, in the files' order.
/// </summary>
internal sealed class ClassifierChunk(IReadOnlyList<string> paths, int first, int count, Tensor<float> input) : IDisposable
{
    public Tensor<float> Input { get; } = input;

    public string?[] Errors { get; } = new string?[count];

    public int Count => count;

    public int Kept { get; private set; }

    public string Path(int i) => paths[first + i];

    /// <summary>Closes up the rows of unreadable images, keeping order.</summary>
    public void Complete(int sampleSize)
    {
        var kept = 0;
        var span = Input.Span;
        for (var i = 0; i < count; i++)
        {
            if (Errors[i] is null)
            {
                if (kept != i)
                {
                    span.Slice(i * sampleSize, sampleSize).CopyTo(span.Slice(kept * sampleSize, sampleSize));
                }

                kept++;
            }
        }

        Kept = kept;
    }

    public void Dispose() => Input.Dispose();
}

/// <summary>The files of one stretch of a <see cref="Classifier.ClassifyEach"/> call, cut into runs for the prefetching workers.</summary>
internal sealed class ClassifierChunks(IReadOnlyList<string> paths, int batchSize, Func<int, Tensor<float>> createInput, int sampleSize,
    Func<string, Span<float>, string?> prepare) : IBatchSource<ClassifierChunk>
{
    public int BatchCount => (paths.Count + batchSize - 1) / batchSize;

    public int SamplesIn(int batch) => Math.Min(batchSize, paths.Count - (batch * batchSize));

    public ClassifierChunk Create(int batch)
    {
        var count = SamplesIn(batch);
        return new ClassifierChunk(paths, batch * batchSize, count, createInput(count));
    }

    public void Fill(ClassifierChunk target, int batch, int sample) =>
        target.Errors[sample] = prepare(target.Path(sample), target.Input.Span.Slice(sample * sampleSize, sampleSize));

    public ClassifierChunk? Complete(ClassifierChunk target, int batch)
    {
        target.Complete(sampleSize);
        return target;
    }
}

using System.Buffers;
using OnnxCnn.Preprocess;
using OnnxCnn.Preprocess.Internal;
using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>The Classify calls: one image in any form, or many files batched through one run per chunk.</summary>
public sealed partial class Classifier
{
    /// <summary>Classifies an image file (JPEG or PNG).</summary>
    /// <param name="imagePath">The image; also its name in error messages.</param>
    /// <param name="top">How many classes to return, most probable first (at most the class count).</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="imagePath"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a supported image, or is corrupt.</exception>
    public IReadOnlyList<Prediction> Classify(string imagePath, int top = 5)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        CheckTop(top);
        ThrowIfDisposed();
        using var image = ImageDecoder.DecodeFile(imagePath, decode);
        return HeadScores.Top(Score(image), top, labels);
    }

    /// <summary>Classifies an encoded image (the bytes of a JPEG or PNG file).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported image, or are corrupt.</exception>
    public IReadOnlyList<Prediction> Classify(ReadOnlySpan<byte> encoded, int top = 5)
    {
        CheckTop(top);
        ThrowIfDisposed();
        using var image = ImageDecoder.Decode(encoded, "<bytes>", decode);
        return HeadScores.Top(Score(image), top, labels);
    }

    /// <summary>Classifies an encoded image read from <paramref name="stream"/> (to its end).</summary>
    /// <exception cref="InvalidDataException">The data is not a supported image, or is corrupt.</exception>
    public IReadOnlyList<Prediction> Classify(Stream stream, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckTop(top);
        ThrowIfDisposed();
        var (buffer, length) = ReadAll(stream);
        try
        {
            using var image = ImageDecoder.Decode(buffer.AsSpan(0, length), "<stream>", decode);
            return HeadScores.Top(Score(image), top, labels);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Classifies decoded pixels: <paramref name="rgb"/> holds <paramref name="height"/> rows of
    /// <paramref name="width"/> RGB pixels, 3 bytes each, no row padding. The pixels are taken as
    /// they are (a decoder's DCT-domain downscaling of large JPEGs does not happen here).
    /// </summary>
    /// <exception cref="ArgumentException">The buffer does not hold width×height×3 bytes.</exception>
    public IReadOnlyList<Prediction> ClassifyPixels(ReadOnlySpan<byte> rgb, int width, int height, int top = 5)
    {
        CheckTop(top);
        ThrowIfDisposed();
        if (width <= 0 || height <= 0 || (long)width * height * 3 != rgb.Length)
        {
            throw new ArgumentException($"an RGB buffer of {width}×{height} pixels holds {(long)Math.Max(0, width) * Math.Max(0, height) * 3} bytes, not {rgb.Length}.", nameof(rgb));
        }

        using var image = RgbImage.FromPixels(width, height, rgb);
        return HeadScores.Top(Score(image), top, labels);
    }

    /// <summary>Classifies a decoded image (see <see cref="ClassifyPixels"/>).</summary>
    public IReadOnlyList<Prediction> Classify(RgbImage image, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckTop(top);
        ThrowIfDisposed();
        return HeadScores.Top(Score(image), top, labels);
    }

    /// <summary>
    /// Classifies image files, <see cref="BatchSize"/> per ONNX Runtime run (decoded in parallel), and
    /// returns one answer per path, in order.
    /// </summary>
    /// <exception cref="InvalidDataException">An image cannot be read (the message names it); use <see cref="ClassifyEach"/> to go on past such images.</exception>
    public IReadOnlyList<IReadOnlyList<Prediction>> ClassifyBatch(IEnumerable<string> imagePaths, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        CheckTop(top);
        var answers = new List<IReadOnlyList<Prediction>>();
        foreach (var result in ClassifyEach(imagePaths))
        {
            answers.Add(result.Succeeded ? result.Top(top) : throw new InvalidDataException(result.Error));
        }

        return answers;
    }

    /// <summary>
    /// Classifies image files lazily, <see cref="BatchSize"/> per run, yielding one result per path in
    /// order; an unreadable image gives a result with its <see cref="ClassifierResult.Error"/> instead
    /// of stopping the others. The next runs' images are decoded on worker threads while the model runs
    /// (a bounded prefetch of two runs); stopping the enumeration early stops the workers.
    /// </summary>
    public IEnumerable<ClassifierResult> ClassifyEach(IEnumerable<string> imagePaths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        ThrowIfDisposed();
        return Each(imagePaths, cancellationToken);
    }

    /// <summary>Paths read ahead of the runs at a time: the workers prefetch within a stretch, and a lazy or endless input is read as it goes.</summary>
    private int StretchLength => batchSize * 64;

    private IEnumerable<ClassifierResult> Each(IEnumerable<string> imagePaths, CancellationToken cancellationToken)
    {
        var stretch = new List<string>(Math.Min(StretchLength, 1 << 16));
        foreach (var path in imagePaths)
        {
            stretch.Add(path ?? throw new ArgumentException("an image path is null.", nameof(imagePaths)));
            if (stretch.Count == StretchLength)
            {
                foreach (var result in Stretch(stretch, cancellationToken))
                {
                    yield return result;
                }

                stretch = new List<string>(stretch.Count);
            }
        }

        foreach (var result in Stretch(stretch, cancellationToken))
        {
            yield return result;
        }
    }

    /// <summary>
    /// Decodes the files on the prefetching workers (dedicated threads, up to <see cref="ClassifierOptions.DecodeThreads"/>)
    /// into pooled tensors while this thread runs the model on the chunk before: two chunks decoded ahead, one running.
    /// </summary>
    private IEnumerable<ClassifierResult> Stretch(List<string> paths, CancellationToken cancellationToken)
    {
        if (paths.Count == 0)
        {
            yield break;
        }

        ThrowIfDisposed();
        var sample = SampleSize;
        var source = new ClassifierChunks(paths, batchSize, n => Tensor<float>.Create(Shape(fixedBatch > 0 ? fixedBatch : n)), sample, Prepare);
        // On the CPU the model's threads use every core: half the decode threads start, more when a run waits for its images.
        var start = session.Device.Kind == DeviceKind.Cpu ? Math.Max(1, decodeThreads / 2) : decodeThreads;
        using var prefetch = new BatchPrefetch<ClassifierChunk>(source, decodeThreads, 2, cancellationToken, start);
        while (prefetch.Take() is { } chunk)
        {
            ClassifierResult[] results;
            using (chunk)
            {
                results = Results(chunk, cancellationToken);
            }

            foreach (var result in results)
            {
                yield return result;
            }
        }
    }

    /// <summary>Runs a decoded chunk once and pairs its rows with the paths.</summary>
    private ClassifierResult[] Results(ClassifierChunk chunk, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var rows = chunk.Kept == 0 ? [] : RunRows(chunk.Input, chunk.Kept, cancellationToken);
        var results = new ClassifierResult[chunk.Count];
        for (int i = 0, row = 0; i < chunk.Count; i++)
        {
            results[i] = chunk.Errors[i] is { } error ? new ClassifierResult(chunk.Path(i), null, error, labels) : new ClassifierResult(chunk.Path(i), rows[row++], null, labels);
        }

        return results;
    }

    /// <summary>Decodes and preprocesses one file into <paramref name="destination"/>; the reason on failure, else null.</summary>
    private string? Prepare(string path, Span<float> destination)
    {
        RgbImage image;
        try
        {
            image = ImageDecoder.DecodeFile(path, decode);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }

        using (image)
        {
            ImageTransforms.Prepare(image, Preprocess, destination);
        }

        return null;
    }

    /// <summary>The probabilities of one image.</summary>
    private float[] Score(RgbImage image)
    {
        using var input = Tensor<float>.Create(Shape(Math.Max(1, fixedBatch)));
        ImageTransforms.Prepare(image, Preprocess, input.Span[..SampleSize]);
        return RunRows(input, 1, default)[0];
    }

    /// <summary>Runs the first <paramref name="count"/> samples of <paramref name="input"/>; a model with a fixed batch gets zeros in the rows after them.</summary>
    private float[][] RunRows(Tensor<float> input, int count, CancellationToken cancellationToken)
    {
        var rows = (int)input.Shape[0];
        if (fixedBatch > 0)
        {
            input.Span[(count * SampleSize)..].Clear();
            return Run(input, count, cancellationToken);
        }

        if (count == rows)
        {
            return Run(input, count, cancellationToken);
        }

        using var smaller = Tensor<float>.FromSpan(input.Span[..(count * SampleSize)], Shape(count));
        return Run(smaller, count, cancellationToken);
    }

    private float[][] Run(Tensor<float> input, int count, CancellationToken cancellationToken)
    {
        using var result = session.Run(input, cancellationToken);
        var output = result[0].Value.As<float>().Span;
        var rows = (int)input.Shape[0];
        if (output.Length != (long)rows * columns)
        {
            throw new InvalidDataException($"the model gave {output.Length} scores for {rows} images, not {columns} per image.");
        }

        var probabilities = new float[count][];
        for (var i = 0; i < count; i++)
        {
            probabilities[i] = HeadScores.Probabilities(output.Slice(i * columns, columns), head);
        }

        return probabilities;
    }

    private long[] Shape(int rows) => Preprocess.Nhwc ? [rows, height, width, 3] : [rows, 3, height, width];

    private static (byte[] Buffer, int Length) ReadAll(Stream stream)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(stream.CanSeek ? (int)Math.Clamp(stream.Length - stream.Position, 1, Array.MaxLength) : 1 << 16);
        var length = 0;
        try
        {
            int read;
            while ((read = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}

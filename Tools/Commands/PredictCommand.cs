using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn predict MODEL IMAGE|FOLDER… [--top K] [--json]</c>: the top-k labels and
/// probabilities of each image. Labels and preprocessing come from the model's metadata (written
/// by <c>finetune</c>), so a fine-tuned model needs no flags. Unreadable images get a warning and
/// make the exit code 1 once every other image has been classified.
/// </summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx classifier (a fine-tuned one carries its labels and preprocessing)" };
        var inputs = new Argument<string[]>("IMAGE|FOLDER") { Description = "image files, or folders searched recursively (.jpg, .jpeg, .png) in sorted order", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { DefaultValueFactory = _ => 5, Description = "labels shown per image" };
        var json = new Option<bool>("--json") { Description = "machine-readable output: [{\"file\", \"top\": [{\"label\", \"probability\"}]}]" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 16, Description = "images per run" };
        var spec = new Option<string?>("--preprocess") { Description = "preprocess spec (default: the model's metadata, else imagenet)" };
        var labelsFile = new Option<string?>("--labels") { Description = "a file with one label per line (default: the model's metadata, else class indices)" };
        var session = new SessionArgs();
        var command = new Command("predict", "Classify images: top-k labels with probabilities.") { model, inputs, top, json, batch, spec, labelsFile };
        session.AddTo(command);
        command.SetAction((r, cancellationToken) => Task.FromResult(Run(context, new Request(
            r.GetValue(model)!, r.GetValue(inputs)!, r.GetValue(top), r.GetValue(json), r.GetValue(batch), r.GetValue(spec), r.GetValue(labelsFile), session.Read(r)), cancellationToken)));
        return command;
    }

    private sealed record Request(string Model, string[] Inputs, int Top, bool Json, int Batch, string? Preprocess, string? LabelsFile, SessionOptions Session);

    private sealed record Prediction(string File, IReadOnlyList<(string Label, float Probability)> Top);

    private static int Run(CliContext context, Request request, CancellationToken cancellationToken)
    {
        if (request.Top < 1)
        {
            throw new UsageException($"--top must be 1 or more, got {request.Top}.");
        }

        if (request.Batch < 1)
        {
            throw new UsageException($"--batch must be 1 or more, got {request.Batch}.");
        }

        var onnx = GraphFiles.Load(request.Model);
        var meta = onnx.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var preprocess = Specs.Preprocess(request.Preprocess ?? meta.GetValueOrDefault(FineTuner.PreprocessKey) ?? "imagenet");
        var (height, width) = FixedSize(preprocess);
        var labels = ReadLabels(request.LabelsFile, meta);
        var (files, missing) = CollectImages(request.Inputs);
        foreach (var m in missing)
        {
            context.Error.WriteLine($"warning: skipped '{m}': no such file or folder");
        }

        if (files.Count == 0)
        {
            throw new UsageException($"no images found in {string.Join(", ", request.Inputs.Select(i => $"'{i}'"))} (looked for {string.Join(", ", ImageDataset.ImageExtensions)}).");
        }

        var endsInSoftmax = onnx.Graph.Node.LastOrDefault(n => n.Output.Contains(onnx.Graph.Output[0].Name))?.OpType == "Softmax";
        using var inference = InferenceSession.Open(request.Model, request.Session);
        var loader = Loader(preprocess);
        var predictions = new List<Prediction>();
        var unreadable = missing.Count;
        var sampleSize = 3 * height * width;
        var buffer = new float[request.Batch * sampleSize];
        for (var start = 0; start < files.Count; start += request.Batch)
        {
            var chunk = files.Skip(start).Take(request.Batch).ToArray();
            var errors = new string?[chunk.Length];
            Parallel.For(0, chunk.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                errors[i] = Prepare(chunk[i], loader, preprocess, height, width, buffer.AsSpan(i * sampleSize, sampleSize));
            });

            // Close the holes left by unreadable images, keeping order.
            var kept = new List<string>();
            for (var i = 0; i < chunk.Length; i++)
            {
                if (errors[i] is { } error)
                {
                    context.Error.WriteLine($"warning: skipped '{chunk[i]}': {error}");
                    unreadable++;
                    continue;
                }

                if (kept.Count != i)
                {
                    buffer.AsSpan(i * sampleSize, sampleSize).CopyTo(buffer.AsSpan(kept.Count * sampleSize, sampleSize));
                }

                kept.Add(chunk[i]);
            }

            if (kept.Count == 0)
            {
                continue;
            }

            long[] shape = preprocess.Nhwc ? [kept.Count, height, width, 3] : [kept.Count, 3, height, width];
            using var x = Tensor<float>.Wrap(buffer, shape);
            using var result = inference.Run(x, cancellationToken);
            var scores = result[0].Value.As<float>().Span;
            var classes = scores.Length / kept.Count;
            if (labels is not null && labels.Count != classes)
            {
                throw new UsageException($"the model scores {classes} classes but {labels.Count} labels were given{(request.LabelsFile is null ? " in its metadata" : $" in '{request.LabelsFile}'")}.");
            }

            for (var i = 0; i < kept.Count; i++)
            {
                var probabilities = Probabilities(scores.Slice(i * classes, classes), endsInSoftmax);
                var order = Enumerable.Range(0, classes).OrderByDescending(c => probabilities[c]).ThenBy(c => c).Take(request.Top);
                predictions.Add(new Prediction(kept[i], order.Select(c => (labels?[c] ?? c.ToString(CultureInfo.InvariantCulture), probabilities[c])).ToArray()));
            }
        }

        if (request.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(
                predictions.Select(p => new { file = p.File, top = p.Top.Select(t => new { label = t.Label, probability = t.Probability }) }), JsonOutput.Options));
        }
        else
        {
            foreach (var p in predictions)
            {
                context.Out.WriteLine($"{p.File}: {string.Join(", ", p.Top.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Label} {t.Probability:F4}")))}");
            }
        }

        if (unreadable > 0)
        {
            context.Error.WriteLine($"error: {unreadable} of {files.Count + missing.Count} images could not be read.");
            return 1;
        }

        return 0;
    }

    /// <summary>Softmax of a row unless the model already ends in Softmax or the row already is a distribution.</summary>
    internal static float[] Probabilities(ReadOnlySpan<float> row, bool endsInSoftmax)
    {
        var sum = 0.0;
        var inRange = true;
        foreach (var v in row)
        {
            sum += v;
            inRange &= v is >= 0 and <= 1;
        }

        if (endsInSoftmax || (inRange && Math.Abs(sum - 1) < 1e-3))
        {
            return row.ToArray();
        }

        var max = float.NegativeInfinity;
        foreach (var v in row)
        {
            max = Math.Max(max, v);
        }

        var result = new float[row.Length];
        var total = 0.0;
        for (var i = 0; i < row.Length; i++)
        {
            total += result[i] = MathF.Exp(row[i] - max);
        }

        for (var i = 0; i < row.Length; i++)
        {
            result[i] = (float)(result[i] / total);
        }

        return result;
    }

    private static IReadOnlyList<string>? ReadLabels(string? file, IReadOnlyDictionary<string, string> meta)
    {
        if (file is null)
        {
            return meta.TryGetValue(FineTuner.LabelsKey, out var stored) ? stored.Split('\n') : null;
        }

        if (!File.Exists(file))
        {
            throw new UsageException($"--labels file '{file}' not found.");
        }

        var lines = File.ReadAllLines(file).Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines.Count > 0 ? lines : throw new UsageException($"--labels file '{file}' is empty.");
    }

    /// <summary>Files as given (any extension) and folders walked recursively for image files, each folder's files in ordinal path order.</summary>
    private static (List<string> Files, List<string> Missing) CollectImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                files.AddRange(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                    .Where(f => ImageDataset.ImageExtensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(input))
            {
                files.Add(input);
            }
            else
            {
                missing.Add(input);
            }
        }

        return (files, missing);
    }

    /// <summary>Decodes like the training pipeline does: DCT-domain downscaling when the image is at least twice the size the spec needs.</summary>
    private static Func<string, RgbImage> Loader(PreprocessSpec spec)
    {
        var target = spec.Resize switch
        {
            ResizeMode.ShorterSide => spec.ResizeHeight,
            ResizeMode.Exact or ResizeMode.Fit => Math.Max(spec.ResizeHeight, spec.ResizeWidth),
            _ => 0,
        };
        var options = target > 0 ? new DecodeOptions { MinWidth = 2 * target, MinHeight = 2 * target } : DecodeOptions.Default;
        return path => ImageDecoder.DecodeFile(path, options);
    }

    /// <summary>Fills <paramref name="destination"/> with the preprocessed image; the reason on failure, else null.</summary>
    private static string? Prepare(string file, Func<string, RgbImage> load, PreprocessSpec spec, int height, int width, Span<float> destination)
    {
        RgbImage image;
        try
        {
            image = load(file);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }

        using (image)
        {
            using var prepared = ImageTransforms.Apply(image, spec);
            if (prepared.Width != width || prepared.Height != height)
            {
                return $"came out {prepared.Width}×{prepared.Height}, not {width}×{height}";
            }

            ImageTransforms.ToTensor(prepared, spec, destination);
        }

        return null;
    }

    private static (int Height, int Width) FixedSize(PreprocessSpec spec) =>
        spec.CropHeight > 0 ? (spec.CropHeight, spec.CropWidth)
        : spec.Resize is ResizeMode.Exact or ResizeMode.Fit ? (spec.ResizeHeight, spec.ResizeWidth)
        : throw new UsageException($"--preprocess '{spec}' does not give a fixed input size; add crop=HxW, resize=HxW or fit=HxW.");
}

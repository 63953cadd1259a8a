using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>preprocess</c>, <c>augment-preview</c> and <c>bench preprocess</c>.</summary>
internal static class PreprocessCommands
{
    public static Command Preprocess(CliContext context)
    {
        var image = new Argument<string>("IMAGE") { Description = "a JPEG or PNG file" };
        var spec = new Option<string>("--preprocess") { Description = "preprocess spec, e.g. imagenet, caffe, or resize=256,crop=224,scale=1/255,…", DefaultValueFactory = _ => "imagenet" };
        var output = new Option<string>("--out", "-o") { Description = "the .npy file to write (1×C×H×W float32, or 1×H×W×C with layout=nhwc)", Required = true };
        var overwrite = new Option<bool>(OutputFiles.OverwriteFlag) { Description = "replace the .npy file if it exists" };
        var command = new Command("preprocess", "Write the tensor a model would see for an image.") { image, spec, output, overwrite };
        command.SetAction(r =>
        {
            OutputFiles.RequireWritable(r.GetValue(output)!, "--out", r.GetValue(overwrite));
            var parsed = Specs.Preprocess(r.GetValue(spec)!);
            using var decoded = ImageDecoder.DecodeFile(r.GetValue(image)!);
            using var prepared = ImageTransforms.Apply(decoded, parsed);
            long[] shape = parsed.Nhwc ? [1, prepared.Height, prepared.Width, 3] : [1, 3, prepared.Height, prepared.Width];
            using var tensor = Tensor<float>.Create(shape);
            ImageTransforms.ToTensor(prepared, parsed, tensor.Span);
            OutputFiles.WriteAtomic(r.GetValue(output)!, stream => Npy.Write(stream, tensor));
            context.Out.WriteLine($"{r.GetValue(image)} ({decoded.Width}×{decoded.Height}) -> {r.GetValue(output)} float32{tensor.ShapeText}");
            return 0;
        });
        return command;
    }

    public static Command AugmentPreview(CliContext context)
    {
        var input = new Argument<string>("IMAGE|DIR") { Description = "an image, or a folder of images (one sample per image, first N)" };
        var augment = new Option<string>("--augment") { Description = "augmentation spec, e.g. rotation=20,shift=0.1,zoom=0.2,hflip,fill=reflect", Required = true };
        var spec = new Option<string>("--preprocess") { Description = "final resize/crop of each sample", DefaultValueFactory = _ => "resize=160,crop=160" };
        var seed = new Option<int>("--seed") { Description = "augmentation seed" };
        var count = new Option<int>("--count") { Description = "number of samples", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--output", "-o") { Description = "the grid PNG to write", Required = true };
        var overwrite = new Option<bool>(OutputFiles.OverwriteFlag) { Description = "replace the PNG if it exists" };
        var command = new Command("augment-preview", "Draw a grid of augmented samples (byte-identical for a given seed).") { input, augment, spec, seed, count, output, overwrite };
        command.SetAction(r =>
        {
            OutputFiles.RequireWritable(r.GetValue(output)!, "-o", r.GetValue(overwrite));
            var n = r.GetValue(count);
            if (n is < 1 or > 256)
            {
                throw new UsageException($"--count must be between 1 and 256, got {n}.");
            }

            var augmenter = new Augmenter(Specs.Augment(r.GetValue(augment))!, r.GetValue(seed));
            var final = Specs.Preprocess(r.GetValue(spec)!);
            var path = r.GetValue(input)!;
            var files = Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(f => ImageDataset.ImageExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).Take(n).ToList()
                : File.Exists(path) ? [path] : throw new UsageException($"'{path}' is neither an image file nor a folder.");
            if (files.Count == 0)
            {
                throw new UsageException($"folder '{path}' has no JPEG or PNG images.");
            }

            var tiles = new List<RgbImage>();
            try
            {
                var sources = files.Select(f => ImageDecoder.DecodeFile(f)).ToList();
                try
                {
                    for (var i = 0; i < n; i++)
                    {
                        tiles.Add(augmenter.Apply(sources[i % sources.Count], final, epoch: 0, index: i));
                    }
                }
                finally
                {
                    sources.ForEach(s => s.Dispose());
                }

                using var grid = ImageGrid.Compose(tiles, (int)Math.Ceiling(Math.Sqrt(n)));
                PngEncoder.Save(grid, r.GetValue(output)!);
                context.Out.WriteLine($"{n} augmented samples ({tiles[0].Width}×{tiles[0].Height}) -> {r.GetValue(output)}");
            }
            finally
            {
                tiles.ForEach(t => t.Dispose());
            }

            return 0;
        });
        return command;
    }

    public static Command BenchPreprocess(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "a folder of images: one subfolder per class, or the images themselves", Required = true };
        var spec = new Option<string>("--preprocess") { Description = "preprocess spec", DefaultValueFactory = _ => "imagenet" };
        var augment = new Option<string?>("--augment") { Description = "augmentation spec (measured as training data would be)" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 32 };
        var workers = new Option<int>("--workers") { Description = "decode/transform threads (default: cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var epochs = new Option<int>("--epochs") { Description = "timed passes over the data (after one warm-up pass)", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "print {\"imagesPerSecond\": …} only" };
        var command = new Command("preprocess", "Measure decode + augment + resize/crop + normalise + collate throughput.") { data, spec, augment, batch, workers, epochs, json };
        command.SetAction(async (r, cancellationToken) =>
        {
            var dataset = BenchDataset(r.GetValue(data)!);
            var parsed = Specs.Preprocess(r.GetValue(spec)!);
            var options = new PipelineOptions
            {
                BatchSize = r.GetValue(batch), Workers = r.GetValue(workers), Preprocess = parsed, Augment = Specs.Augment(r.GetValue(augment)), Seed = 1,
            };
            var pipeline = new BatchPipeline(dataset, options, BatchPipeline.DefaultLoader(dataset, parsed));
            pipeline.Warning += w => context.Error.WriteLine("warning: " + w);
            var order = Enumerable.Range(0, dataset.Items.Count).ToArray();
            await Drain(pipeline, order, 0, cancellationToken).ConfigureAwait(false);
            var watch = Stopwatch.StartNew();
            var images = 0;
            for (var epoch = 1; epoch <= r.GetValue(epochs); epoch++)
            {
                images += await Drain(pipeline, Splits.Shuffle(order, 1, epoch), epoch, cancellationToken).ConfigureAwait(false);
            }

            var rate = images / watch.Elapsed.TotalSeconds;
            if (r.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new { imagesPerSecond = Math.Round(rate, 1), images, workers = options.Workers, augment = options.Augment is not null, skipped = pipeline.Skipped.Count }, JsonOutput.Options));
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rate:F1} images/s ({images} images, {options.Workers} workers, batch {options.BatchSize}{(options.Augment is null ? "" : ", augmented")}; {pipeline.Skipped.Count} skipped)"));
            }

            return 0;
        });
        return command;
    }

    /// <summary>Class folders when the folder has subfolders, else the images it holds (labels do not matter for throughput).</summary>
    private static ImageDataset BenchDataset(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"--data: folder '{folder}' not found.");
        }

        var hasSubfolders = Directory.EnumerateDirectories(folder).Any(d => !Path.GetFileName(d).StartsWith('.'));
        return hasSubfolders ? ImageDataset.FromFolder(folder) : ImageDataset.FromImages(folder);
    }

    private static async Task<int> Drain(BatchPipeline pipeline, IReadOnlyList<int> order, int epoch, CancellationToken cancellationToken)
    {
        var n = 0;
        await foreach (var b in pipeline.Epoch(order, epoch, cancellationToken).ConfigureAwait(false))
        {
            n += b.Count;
            b.Dispose();
        }

        return n;
    }
}

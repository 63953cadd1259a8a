using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;
using Spectre.Console;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The demo's fine-tune: feature extraction on a real pretrained network. ML.NET's ImageNet ResNet-18 (a CNTK export,
/// opset 8, batch 1, no classifier: it ends in pooled 512 features) is composed with its own mean-image preprocessing,
/// given a dynamic batch and a new dense head, and the head is trained on features computed once per image; the result is
/// judged on crops from parts of the photos no training crop came from.
/// </summary>
internal static class PretrainedDemo
{
    /// <summary>The NuGet package that ships the network (MIT licence), restored by the CLI project's build.</summary>
    public const string Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    private const int TrainPerClass = 40;
    private const int TestPerClass = 24;
    private const int Tiles = 4;

    /// <summary>The package's model folder as the build found it (AssemblyMetadata from $(NuGetPackageRoot)).</summary>
    public static string Folder => typeof(PretrainedDemo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "OnnxCnn.DemoModels")?.Value ?? "";

    /// <summary>The network and its preprocessing graph in <paramref name="folder"/> (default <see cref="Folder"/>); a clear error when absent.</summary>
    public static (string Network, string Preprocessing) Locate(string? folder = null)
    {
        folder ??= Folder;
        var network = Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx");
        var preprocessing = Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (var file in new[] { network, preprocessing })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"the demo's pretrained network is missing: '{file}' not found. It comes from the NuGet package {Package}; " +
                    "restore it with 'dotnet restore Tools/OnnxCnn.Cli.csproj' (./onnxcnn does this when it builds).", file);
            }
        }

        return (network, preprocessing);
    }

    /// <summary>Runs the fine-tune on crops of <paramref name="photos"/> (the two test-fixture photos) and prints its progress and held-out result.</summary>
    public static double Run(IAnsiConsole console, string photos, (string Network, string Preprocessing) files)
    {
        console.Write(new Rule("[bold]fine-tuning a pretrained network (feature extraction)[/]").LeftJustified());
        var watch = Stopwatch.StartNew();
        var network = OnnxModel.Load(files.Network);
        var info = ModelSummary.Create(network);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"backbone: ML.NET's ImageNet ResNet-18 ({Package}, MIT), {network.Proto.ProducerName} export, opset {network.Opset}, {info.TotalParams:N0} parameters, " +
            $"input {info.Inputs[0].Shape} -> {info.Outputs[0].Shape} (pooled features, no classifier)")));

        // Its input is BGR 0–255 minus a mean image; ML.NET runs that as a separate graph, composed here in front.
        var model = GraphEdits.DynamicBatch(GraphEdits.Compose(OnnxModel.Load(files.Preprocessing), network));
        console.MarkupLine(Markup.Escape($"composed with ResNetPreprocess.onnx (RGB→BGR, minus the 224×224 mean image) and given a dynamic batch: input {ShapeInference.FromValueInfo(model.Graph.Input[0])}"));

        var root = Path.Combine(Path.GetTempPath(), "onnxcnn-demo-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            MakeDataset(Path.Combine(root, "data"), photos);
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"dataset: each photo cut into a 4×4 checkerboard; {TrainPerClass} random crops of its 8 white tiles to train on (a fifth held out for validation), {TestPerClass} of its 8 black tiles to test on (classes: coffee, summer_palace)"));
            var options = new FineTuneOptions
            {
                NewHeadClasses = 2,
                Spec = new TrainingSpec { Optimizer = OptimizerKind.Adam },
                Epochs = 8,
                BatchSize = 8,
                LearningRate = 0.001f,
                Preprocess = PreprocessSpec.Parse("resize=224x224"),
                ValidationSplit = 0.2,
                Seed = 1,
            };
            var train = ImageDataset.FromFolder(Path.Combine(root, "data", "train"));
            var output = Path.Combine(root, "run");
            console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(p =>
            {
                var task = p.AddTask("head only, on cached ResNet-18 features (Adam)", maxValue: options.Epochs);
                FineTuner.RunAsync(model, train, options, output, new FineTuneExecution { Progress = new EpochLines(console, task) }).GetAwaiter().GetResult();
            });

            var test = ImageDataset.FromFolder(Path.Combine(root, "data", "test"));
            var pipeline = new BatchPipeline(test, new PipelineOptions { BatchSize = 16, Preprocess = options.Preprocess }, BatchPipeline.DefaultLoader(test, options.Preprocess));
            var (_, accuracy, metrics) = FineTuner.EvaluateAsync(OnnxModel.Load(Path.Combine(output, "model.onnx")), pipeline,
                Enumerable.Range(0, test.Items.Count).ToArray(), test.Classes, options.Preprocess).GetAwaiter().GetResult();
            var perClass = metrics is null ? "" : "; " + string.Join(", ", metrics.PerClass.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Label} recall {c.Recall:P0}")));
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out test accuracy on {test.Items.Count} crops from tiles no training crop saw: [bold]{accuracy:P1}[/]{perClass} ({watch.Elapsed.TotalSeconds:F0} s in all; the run's folder was temporary and is removed)"));
            return accuracy;
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>The demo's view of the run: a line per finished epoch, and the bar moved on.</summary>
    private sealed class EpochLines(IAnsiConsole console, ProgressTask task) : IProgress<FineTuneProgress>
    {
        public void Report(FineTuneProgress value)
        {
            if (value.Completed is not { } e)
            {
                return;
            }

            task.Value = e.Epoch;
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"  epoch {e.Epoch}: loss {e.TrainLoss:F3}, accuracy {e.TrainAccuracy:P0}, val accuracy {e.ValidationAccuracy:P0} ({e.Seconds:F1} s)"));
        }
    }

    /// <summary>
    /// Each photo cut into a 4×4 checkerboard of tiles: random crops (40–100% of a tile, flips) of the 8 "white" tiles
    /// go to train/, of the 8 "black" ones to test/ — the same kind of content on both sides, never the same pixels.
    /// </summary>
    private static void MakeDataset(string root, string photos)
    {
        var augmenter = new Augmenter(AugmentSpec.Parse("rrc=0.4:1,hflip"), 11);
        var crop = PreprocessSpec.Parse("crop=96x96");
        foreach (var (label, file) in new[] { ("coffee", "photo2.png"), ("summer_palace", "photo1.jpg") })
        {
            using var photo = ImageDecoder.DecodeFile(Path.Combine(photos, file));
            foreach (var (name, count, parity) in new[] { ("train", TrainPerClass, 0), ("test", TestPerClass, 1) })
            {
                Directory.CreateDirectory(Path.Combine(root, name, label));
                var tiles = Enumerable.Range(0, Tiles * Tiles).Where(t => ((t / Tiles) + (t % Tiles)) % 2 == parity).ToArray();
                for (var i = 0; i < count; i++)
                {
                    var tile = tiles[i % tiles.Length];
                    using var region = Region(photo, tile % Tiles, tile / Tiles);
                    using var sample = augmenter.Apply(region, crop, epoch: parity, index: i);
                    PngEncoder.Save(sample, Path.Combine(root, name, label, $"{i:D2}.png"));
                }
            }
        }
    }

    /// <summary>Tile (<paramref name="column"/>, <paramref name="row"/>) of a <see cref="Tiles"/>×<see cref="Tiles"/> grid.</summary>
    private static RgbImage Region(RgbImage image, int column, int row)
    {
        var (x0, x1) = (image.Width * column / Tiles, image.Width * (column + 1) / Tiles);
        var (y0, y1) = (image.Height * row / Tiles, image.Height * (row + 1) / Tiles);
        var region = RgbImage.Create(x1 - x0, y1 - y0);
        for (var y = y0; y < y1; y++)
        {
            image.Row(y).Slice(x0 * 3, (x1 - x0) * 3).CopyTo(region.Row(y - y0));
        }

        return region;
    }
}

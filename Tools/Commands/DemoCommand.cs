using System.CommandLine;
using System.Globalization;
using OnnxCnn.Runtime;
using Spectre.Console;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn demo</c>: what works today, shown on real data — ONNX Runtime loaded through our
/// binding, a torchvision-style CNN exported by PyTorch run on CPU and checked against PyTorch's
/// own logits — then the commands available.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("demo", "A short tour: load ONNX Runtime, run a PyTorch-exported CNN, compare with PyTorch.");
        command.SetAction(_ => Run(context));
        return command;
    }

    private static int Run(CliContext context)
    {
        var console = context.Console;
        console.Write(new Rule("[bold]OnnxCnn demo[/]").LeftJustified());
        console.MarkupLine($"ONNX Runtime [green]{Markup.Escape(OrtEnvironment.Version)}[/] from {Markup.Escape(OrtEnvironment.LibraryPath)}");
        console.MarkupLine($"execution providers in this build: {Markup.Escape(string.Join(", ", OrtEnvironment.AvailableProviders))}");

        var fixture = FindFixture();
        if (fixture is null)
        {
            throw new InvalidOperationException("demo data (tests/fixtures/tiny_resnet) not found; run the demo from an OnnxCnn checkout.");
        }

        using var session = InferenceSession.Open(Path.Combine(fixture, "model.onnx"));
        using var input = Npy.Read(Path.Combine(fixture, "input.npy"));
        using var expected = Npy.Read(Path.Combine(fixture, "logits.npy"));
        console.MarkupLine($"model: {Markup.Escape(Path.Combine(fixture, "model.onnx"))}, input {Markup.Escape(session.Inputs[0].ShapeText)} -> output {Markup.Escape(session.Outputs[0].ShapeText)}");
        using var result = session.Run(input);
        var logits = result.First<float>();
        var reference = expected.As<float>().Span;
        var classes = (int)logits.Shape[1];
        var table = new Table().AddColumns("image", "top-1 (OnnxCnn)", "top-1 (PyTorch)", "max |Δ logit|");
        var worst = 0.0;
        for (var n = 0; n < logits.Shape[0]; n++)
        {
            var ours = logits.Span.Slice(n * classes, classes);
            var theirs = reference.Slice(n * classes, classes);
            var diff = 0.0;
            for (var c = 0; c < classes; c++)
            {
                diff = Math.Max(diff, Math.Abs(ours[c] - theirs[c]));
            }

            worst = Math.Max(worst, diff);
            table.AddRow(n.ToString(CultureInfo.InvariantCulture), ArgMax(ours).ToString(CultureInfo.InvariantCulture),
                ArgMax(theirs).ToString(CultureInfo.InvariantCulture), diff.ToString("E2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        var verdict = worst < 1e-4 ? "[green]matches PyTorch[/]" : "[red]differs from PyTorch[/]";
        console.MarkupLine($"{verdict} (largest logit difference {worst.ToString("E2", CultureInfo.InvariantCulture)})");
        console.WriteLine();
        var summary = Graphs.ModelSummary.Create(Graphs.OnnxModel.Load(Path.Combine(fixture, "model.onnx")));
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"its summary: {summary.Layers.Count} layers, {summary.TotalParams:N0} parameters (./onnxcnn summary MODEL for the table)"));
        var photos = Path.Combine(Path.GetDirectoryName(fixture)!, "preprocess");
        if (Directory.Exists(photos))
        {
            // A real photo through the imagenet preset, against torchvision's own transform.
            using var photo = Preprocess.ImageDecoder.DecodeFile(Path.Combine(photos, "photos", "photo1.jpg"));
            using var prepared = Preprocess.ImageTransforms.Apply(photo, Preprocess.PreprocessSpec.ImageNet);
            var values = new float[3 * 224 * 224];
            Preprocess.ImageTransforms.ToTensor(prepared, Preprocess.PreprocessSpec.ImageNet, values);
            using var torchvision = Npy.Read(Path.Combine(photos, "imagenet", "photo1.npy"));
            var reference2 = torchvision.As<float>().Span;
            var maxDiff = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(values[i] - reference2[i]));
            }

            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"photo1.jpg ({photo.Width}×{photo.Height}) through the imagenet preset: largest difference from torchvision {maxDiff:E2}"));
        }

        if (Directory.Exists(photos))
        {
            FineTuneDemo(console, Path.Combine(fixture, "model.onnx"), Path.Combine(photos, "photos"));
        }

        console.MarkupLine("Commands available now: [bold]info[/], [bold]summary[/], [bold]infer[/], [bold]preprocess[/], [bold]augment-preview[/], [bold]bench[/] infer|preprocess|train, [bold]zoo[/], [bold]finetune[/], [bold]eval[/], [bold]predict[/], [bold]graph[/] head|cut|dynamic-batch|rename|extract|append-softmax|clean|reinit|prepend-preprocess (see ./onnxcnn --help).");
        return worst < 1e-4 ? 0 : 1;
    }

    /// <summary>
    /// A real fine-tune, end to end: a two-class dataset cut from two photos by random resized crops,
    /// the tiny CNN given a new head and trained (Adam, all layers) through the compiled training
    /// graph, then judged on crops it never saw.
    /// </summary>
    private static void FineTuneDemo(IAnsiConsole console, string model, string photos)
    {
        console.Write(new Rule("[bold]fine-tuning[/]").LeftJustified());
        var root = Path.Combine(Path.GetTempPath(), "onnxcnn-demo-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            var augmenter = new Preprocess.Augmenter(Preprocess.AugmentSpec.Parse("rrc=0.1:0.5,hflip,brightness=0.2"), 11);
            var crop = Preprocess.PreprocessSpec.Parse("crop=64x64");
            foreach (var (label, file) in new[] { ("coffee", "photo2.png"), ("pagoda", "photo1.jpg") })
            {
                using var photo = Preprocess.ImageDecoder.DecodeFile(Path.Combine(photos, file));
                foreach (var split in new[] { "train", "test" })
                {
                    Directory.CreateDirectory(Path.Combine(root, split, label));
                    for (var i = 0; i < 40; i++)
                    {
                        using var sample = augmenter.Apply(photo, crop, epoch: split == "train" ? 0 : 1, index: i);
                        Preprocess.PngEncoder.Save(sample, Path.Combine(root, split, label, $"{i:D2}.png"));
                    }
                }
            }

            console.MarkupLine("dataset: 40 random crops of each photo to train on, 40 more of each to test (classes: coffee, pagoda)");
            var options = new Training.FineTuneOptions
            {
                NewHeadClasses = 2,
                Spec = new Training.TrainingSpec { Trainable = ["*"], Optimizer = Training.OptimizerKind.Adam },
                Epochs = 6,
                BatchSize = 16,
                LearningRate = 0.005f,
                Preprocess = Preprocess.PreprocessSpec.Parse("resize=32x32,scale=1/255,mean=0.485:0.456:0.406,std=0.229:0.224:0.225"),
                Augment = Preprocess.AugmentSpec.Parse("hflip"),
                ValidationSplit = 0.2,
                Seed = 1,
            };
            var train = Preprocess.ImageDataset.FromFolder(Path.Combine(root, "train"));
            var output = Path.Combine(root, "run");
            console.Progress().Start(p =>
            {
                var task = p.AddTask("fine-tuning (Adam, all layers)", maxValue: options.Epochs);
                Training.FineTuner.RunAsync(Graphs.OnnxModel.Load(model), train, options, output, e =>
                {
                    task.Value = e.Epoch;
                    console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                        $"  epoch {e.Epoch}: loss {e.TrainLoss:F3}, accuracy {e.TrainAccuracy:P0}, val accuracy {e.ValidationAccuracy:P0}"));
                }).GetAwaiter().GetResult();
            });

            var test = Preprocess.ImageDataset.FromFolder(Path.Combine(root, "test"));
            var pipeline = new Preprocess.BatchPipeline(test, new Preprocess.PipelineOptions { BatchSize = 16, Preprocess = options.Preprocess },
                Preprocess.BatchPipeline.DefaultLoader(test, options.Preprocess));
            var (_, accuracy, _) = Training.FineTuner.EvaluateAsync(Graphs.OnnxModel.Load(Path.Combine(output, "model.onnx")), pipeline,
                Enumerable.Range(0, test.Items.Count).ToArray(), test.Classes, options.Preprocess).GetAwaiter().GetResult();
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy on 80 unseen crops: [bold]{accuracy:P1}[/] (the run's model, labels, history and metrics went to a temporary folder, removed again)"));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static string? FindFixture()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "tiny_resnet");
                if (File.Exists(Path.Combine(dir.FullName, "OnnxCnn.sln")) && Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}

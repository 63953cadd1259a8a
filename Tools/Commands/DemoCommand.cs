using System.CommandLine;
using System.Globalization;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;
using Spectre.Console;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn demo</c>: what works today, shown on real data — ONNX Runtime loaded, a torchvision-style
/// CNN exported by PyTorch run on CPU and checked against PyTorch's own logits, a photo's preprocessing
/// checked against torchvision, then a pretrained ResNet-18 (ML.NET's, restored by NuGet) given a new head
/// and fine-tuned by feature extraction, judged on held-out crops — then the commands available.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("demo", "A short tour: run a PyTorch-exported CNN and compare with PyTorch, then fine-tune a pretrained ResNet-18 on crops of two photos.");
        command.SetAction(_ => Run(context));
        return command;
    }

    private static int Run(CliContext context)
    {
        var console = context.Console;
        console.Write(new Rule("[bold]OnnxCnn demo[/]").LeftJustified());
        console.MarkupLine($"ONNX Runtime [green]{Markup.Escape(OrtEnvironment.Version)}[/] from {Markup.Escape(OrtEnvironment.LibraryPath)}");
        console.MarkupLine($"execution providers in this build: {Markup.Escape(string.Join(", ", OrtEnvironment.AvailableProviders))}");

        var pretrained = PretrainedDemo.Locate();
        var fixture = FindFixture();
        if (fixture is null)
        {
            throw new InvalidOperationException("demo data (tests/fixtures/tiny_resnet) not found; run the demo from an OnnxCnn checkout.");
        }

        var worst = CompareWithPyTorch(console, fixture);
        var summary = Graphs.ModelSummary.Create(Graphs.OnnxModel.Load(Path.Combine(fixture, "model.onnx")));
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"its summary: {summary.Layers.Count} layers, {summary.TotalParams:N0} parameters (./onnxcnn summary MODEL for the table)"));
        var photos = Path.Combine(Path.GetDirectoryName(fixture)!, "preprocess");
        if (Directory.Exists(photos))
        {
            CompareWithTorchvision(console, photos);
        }

        var accuracy = Directory.Exists(photos) ? PretrainedDemo.Run(console, Path.Combine(photos, "photos"), pretrained) : double.NaN;

        console.MarkupLine("Commands available now: [bold]info[/], [bold]summary[/], [bold]infer[/], [bold]preprocess[/], [bold]augment-preview[/], [bold]bench[/] infer|preprocess|train, [bold]zoo[/], [bold]finetune[/], [bold]eval[/], [bold]predict[/], [bold]graph[/] head|cut|input-size|dynamic-batch|rename|extract|append-softmax|clean|reinit|prepend-preprocess (see ./onnxcnn --help).");
        return worst < 1e-4 && accuracy >= 0.9 ? 0 : 1;
    }

    /// <summary>The fixture's model on its input against the logits PyTorch computed: a table per image; returns the largest difference.</summary>
    private static double CompareWithPyTorch(IAnsiConsole console, string fixture)
    {
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
        return worst;
    }

    /// <summary>A real photo through the imagenet preset, against torchvision's own transform.</summary>
    private static void CompareWithTorchvision(IAnsiConsole console, string photos)
    {
        using var photo = Preprocess.ImageDecoder.DecodeFile(Path.Combine(photos, "photos", "photo1.jpg"));
        using var prepared = Preprocess.ImageTransforms.Apply(photo, Preprocess.PreprocessSpec.ImageNet);
        var values = new float[3 * 224 * 224];
        Preprocess.ImageTransforms.ToTensor(prepared, Preprocess.PreprocessSpec.ImageNet, values);
        using var torchvision = Npy.Read(Path.Combine(photos, "imagenet", "photo1.npy"));
        var reference = torchvision.As<float>().Span;
        var maxDiff = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(values[i] - reference[i]));
        }

        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"photo1.jpg ({photo.Width}×{photo.Height}) through the imagenet preset: largest difference from torchvision {maxDiff:E2}"));
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

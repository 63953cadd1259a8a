using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Runtime;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn bench train MODEL --classes N --trainable GLOBS …</c>: training-step throughput on synthetic data.</summary>
internal static class BenchTrainCommand
{
    private static T Refusing<T>(Func<T> edit)
    {
        try
        {
            return edit();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new UsageException(CliApp.MessageOf(e));
        }
    }

    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx classifier" };
        var classes = new Option<int>("--classes") { Description = "classes of the new head", Required = true };
        var trainable = OptionParsers.Globs("--trainable", "comma-separated node or parameter name globs, e.g. /layer4/*,/fc/*");
        trainable.Required = true;
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "timed steps (after one warm-up step)", DefaultValueFactory = _ => 5 };
        var size = OptionParsers.Size("--input-size", "HxW (default: the model's)");
        var json = new Option<bool>("--json") { Description = "print {\"imagesPerSecond\": …} only" };
        var noOverlap = new Option<bool>("--no-overlap") { Description = "run the frozen prefix and the step one after the other (default: the next batch's prefix runs while the current step trains, as finetune does)" };
        var session = new SessionArgs();
        var command = new Command("train", "Measure fine-tuning steps per second (SGD with momentum, synthetic data).") { model, classes, trainable, batch, steps, size, json, noOverlap };
        session.AddTo(command);
        command.SetAction(r =>
        {
            var onnx = GraphFiles.Load(r.GetValue(model)!);
            if (r.GetValue(size) is var (height, width))
            {
                // As finetune does: the model itself is set to the size (a graph bound to its export size is refused).
                onnx = Refusing(() => GraphEdits.SetInputSize(onnx, height, width));
            }

            var headed = Refusing(() => HeadEdits.Replace(onnx, new HeadSpec { Classes = r.GetValue(classes), Seed = 0 }));
            // The new head always trains, whatever the globs name: its parameters are the initializers the head edit added.
            var before = onnx.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var spec = new TrainingSpec
            {
                Trainable = [.. r.GetValue(trainable)!, .. headed.Graph.Initializer.Select(t => t.Name).Where(n => !before.Contains(n))],
                Momentum = 0.9f,
            };
            using var training = TrainingSession.Create(headed, spec, session.Read(r));
            var b = r.GetValue(batch);
            using var x = SyntheticImages(headed, b);
            using var y = Tensor<long>.FromSpan(Enumerable.Range(0, b).Select(i => (long)(i % r.GetValue(classes))).ToArray(), b);
            training.Step(x, y, 0.01f);
            var n = r.GetValue(steps);
            var overlapped = training.HasPrefix && !r.GetValue(noOverlap);
            var watch = Stopwatch.StartNew();
            TimedSteps(training, x, y, n, overlapped);
            var rate = b * n / watch.Elapsed.TotalSeconds;
            if (r.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new { imagesPerSecond = Math.Round(rate, 2), batch = b, steps = n, parameters = training.Graph.Parameters.Count, boundary = training.Graph.Input, overlapped }, JsonOutput.Options));
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rate:F1} images/s training ({training.Graph.Parameters.Count} parameter tensors after '{training.Graph.Input}', batch {b}, {n} steps{(overlapped ? ", prefix of the next batch overlapped" : "")})"));
            }

            return 0;
        });
        return command;
    }

    /// <summary>A seeded batch of <paramref name="batch"/> random images of the model's input shape (fixed height and width needed).</summary>
    private static Tensor<float> SyntheticImages(OnnxModel model, int batch)
    {
        var input = model.Graph.Input.First(i => model.Graph.Initializer.All(t => t.Name != i.Name));
        var dims = input.Type.TensorType.Shape.Dim.Select(d => d.DimValue > 0 ? d.DimValue : 0).ToArray();
        dims[0] = batch;
        if (dims.Skip(1).Any(d => d == 0))
        {
            throw new UsageException($"the model's input '{input.Name}' has a symbolic height or width; give --input-size HxW.");
        }

        var random = new Random(1);
        var x = Tensor<float>.Create(dims);
        foreach (ref var v in x.Span)
        {
            v = random.NextSingle();
        }

        return x;
    }

    /// <summary>The timed steps; overlapped, the next batch's prefix runs while the current step trains, as finetune does.</summary>
    private static void TimedSteps(TrainingSession training, Tensor<float> x, Tensor<long> y, int n, bool overlapped)
    {
        if (!overlapped)
        {
            for (var i = 0; i < n; i++)
            {
                training.Step(x, y, 0.01f);
            }

            return;
        }

        var features = training.Features(x);
        for (var i = 0; i < n; i++)
        {
            var next = i + 1 < n ? Task.Run(() => training.Features(x)) : null;
            training.StepOnFeatures(features, y, 0.01f);
            features.Dispose();
            features = next?.GetAwaiter().GetResult() ?? Tensor<float>.Create(1);
        }

        features.Dispose();
    }
}

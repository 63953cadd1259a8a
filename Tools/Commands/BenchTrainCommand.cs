using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
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
        var trainable = new Option<string>("--trainable") { Description = "comma-separated node or parameter name globs, e.g. /layer4/*,/fc/*", Required = true };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "timed steps (after one warm-up step)", DefaultValueFactory = _ => 5 };
        var size = new Option<string?>("--input-size") { Description = "HxW (default: the model's)" };
        var json = new Option<bool>("--json") { Description = "print {\"imagesPerSecond\": …} only" };
        var noOverlap = new Option<bool>("--no-overlap") { Description = "run the frozen prefix and the step one after the other (default: the next batch's prefix runs while the current step trains, as finetune does)" };
        var session = new SessionArgs();
        var command = new Command("train", "Measure fine-tuning steps per second (SGD with momentum, synthetic data).") { model, classes, trainable, batch, steps, size, json, noOverlap };
        session.AddTo(command);
        command.SetAction(r =>
        {
            var onnx = GraphFiles.Load(r.GetValue(model)!);
            if (r.GetValue(size) is { } text)
            {
                // As finetune does: the model itself is set to the size (a graph bound to its export size is refused).
                var (height, width) = GraphCommand.ParseSize("--input-size", text);
                onnx = Refusing(() => GraphEdits.SetInputSize(onnx, height, width));
            }

            var headed = Refusing(() => HeadEdits.Replace(onnx, new HeadSpec { Classes = r.GetValue(classes), Seed = 0 }));
            var spec = new TrainingSpec
            {
                // The new head always trains, whatever the globs name.
                Trainable = [.. r.GetValue(trainable)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), "/head/*"],
                Momentum = 0.9f,
            };
            using var training = TrainingSession.Create(headed, spec, session.Read(r));
            var input = headed.Graph.Input.First(i => headed.Graph.Initializer.All(t => t.Name != i.Name));
            var dims = input.Type.TensorType.Shape.Dim.Select(d => d.DimValue > 0 ? d.DimValue : 0).ToArray();
            var b = r.GetValue(batch);
            dims[0] = b;
            if (dims.Skip(1).Any(d => d == 0))
            {
                throw new UsageException($"the model's input '{input.Name}' has a symbolic height or width; give --input-size HxW.");
            }

            var random = new Random(1);
            using var x = Tensor<float>.Create(dims);
            foreach (ref var v in x.Span)
            {
                v = random.NextSingle();
            }

            using var y = Tensor<long>.FromSpan(Enumerable.Range(0, b).Select(i => (long)(i % r.GetValue(classes))).ToArray(), b);
            training.Step(x, y, 0.01f);
            var watch = Stopwatch.StartNew();
            var n = r.GetValue(steps);
            var overlapped = training.HasPrefix && !r.GetValue(noOverlap);
            if (overlapped)
            {
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
            else
            {
                for (var i = 0; i < n; i++)
                {
                    training.Step(x, y, 0.01f);
                }
            }

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
}

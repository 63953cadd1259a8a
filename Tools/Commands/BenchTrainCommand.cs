using System.CommandLine;
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
        var batch = AtLeastOne("--batch", "batch size", 32);
        var steps = AtLeastOne("--steps", "timed steps per round (after one warm-up step)", 5);
        var rounds = AtLeastOne("--rounds", "interleaved rounds of steps and inference forwards (medians are reported)", 5);
        var size = OptionParsers.Size("--input-size", "HxW (default: the model's)");
        var json = new Option<bool>("--json") { Description = "print JSON only: imagesPerSecond, stepMs, forwardMs, efficiency, rounds, cpu, …" };
        var noOverlap = new Option<bool>("--no-overlap") { Description = "run the frozen prefix and the step one after the other (default: the next batch's prefix runs while the current step trains, as finetune does)" };
        var session = new SessionArgs();
        var command = new Command("train", "Measure fine-tuning steps per second (SGD with momentum, synthetic data) and their cost against the same run's inference forwards.") { model, classes, trainable, batch, steps, rounds, size, json, noOverlap };
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
            using var benchmark = new TrainBenchmark(training, x, y, r.GetValue(steps), !r.GetValue(noOverlap));
            benchmark.WarmUp();
            var measured = Enumerable.Range(0, r.GetValue(rounds)).Select(_ => benchmark.Round()).ToList();
            Report(context, training, benchmark, measured, b, r.GetValue(steps), r.GetValue(json));
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

    private static Option<int> AtLeastOne(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            // A token that is not a number already has the parser's own error; only a parsed count is checked here.
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value < 1)
            {
                r.AddError($"{name} must be at least 1, got {value}.");
            }
        });
        return option;
    }

    /// <summary>Medians over the rounds (the efficiency as the median of each round's own ratio), in text or JSON.</summary>
    private static void Report(CliContext context, TrainingSession training, TrainBenchmark benchmark, List<TrainRound> rounds, int batch, int steps, bool json)
    {
        var stepMs = TrainBenchmark.Median(rounds.Select(m => m.StepMs));
        var fullMs = TrainBenchmark.Median(rounds.Select(m => m.FullForwardMs));
        var trainableMs = TrainBenchmark.Median(rounds.Select(m => m.TrainableForwardMs));
        var efficiency = TrainBenchmark.Median(rounds.Select(m => m.Efficiency));
        var rate = batch * 1000 / stepMs;
        var cpu = CpuInfo.Read();
        var threads = training.PartOptions("threads").IntraOpThreads;
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                imagesPerSecond = Math.Round(rate, 2),
                stepMs = Math.Round(stepMs, 4),
                forwardMs = new { full = Math.Round(fullMs, 4), trainable = Math.Round(trainableMs, 4) },
                idealStepMs = Math.Round(fullMs + (2 * trainableMs), 4),
                efficiency = Math.Round(efficiency, 4),
                batch,
                steps,
                rounds = rounds.Select(m => new
                {
                    stepMs = Math.Round(m.StepMs, 4),
                    fullForwardMs = Math.Round(m.FullForwardMs, 4),
                    trainableForwardMs = Math.Round(m.TrainableForwardMs, 4),
                    efficiency = Math.Round(m.Efficiency, 4),
                }),
                parameters = training.Graph.Parameters.Count,
                boundary = training.Graph.Input,
                overlapped = benchmark.Overlapped,
                device = training.Device.ToString(),
                intraOpThreads = threads,
                cpu = new { model = cpu.Model, logicalCores = cpu.LogicalCores, flags = cpu.Flags, dotnetIntrinsics = cpu.Intrinsics },
            }, JsonOutput.Options));
            return;
        }

        var o = context.Out;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rate:F1} images/s training ({training.Graph.Parameters.Count} parameter tensors after '{training.Graph.Input}', batch {batch}, {rounds.Count} rounds of {steps} steps{(benchmark.Overlapped ? ", prefix of the next batch overlapped" : "")})"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {stepMs:F1} ms; inference forward {fullMs:F1} ms whole model, {trainableMs:F1} ms trainable part; efficiency {efficiency:F3} (whole + 2 × trainable = {fullMs + (2 * trainableMs):F1} ms over the step; medians of interleaved rounds)"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cpu.Describe()}; ONNX Runtime intra-op threads {threads}"));
    }
}

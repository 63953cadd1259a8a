using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;
using Spectre.Console;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn bench infer MODEL …</c>: inference throughput and latency on random inputs.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext context)
    {
        var bench = new Command("bench", "Measure throughput and latency.");
        bench.Add(CreateInfer(context));
        bench.Add(PreprocessCommands.BenchPreprocess(context));
        bench.Add(BenchTrainCommand.Create(context));
        return bench;
    }

    private static Command CreateInfer(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx model file" };
        var batch = new Option<int>("--batch", "-b") { Description = "images per run", DefaultValueFactory = _ => 8 };
        var iterations = new Option<int>("--iterations", "-n") { Description = "timed runs", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "untimed runs first", DefaultValueFactory = _ => 3 };
        var inputSize = new Option<string?>("--input-size") { Description = "HxW for symbolic spatial dimensions (default 224x224)" };
        var json = new Option<bool>("--json") { Description = "print {\"imagesPerSecond\", \"latencyMs\": {\"p50\", \"p90\"}} only" };
        var compare = new Option<bool>("--compare-ort") { Description = "also run the model through ONNX Runtime's own C# API (same session options), in interleaved rounds, and report the ratio" };
        var rounds = new Option<int>("--rounds") { Description = "interleaved rounds for --compare-ort (medians are reported)", DefaultValueFactory = _ => 5 };
        var session = new SessionArgs();
        var command = new Command("infer", "Run a model on random inputs and report images/s and latency percentiles.")
        {
            model, batch, iterations, warmup, inputSize, json, compare, rounds,
        };
        session.AddTo(command);
        command.SetAction(r => Run(context, new Settings(
            r.GetValue(model)!, r.GetValue(batch), r.GetValue(iterations), r.GetValue(warmup),
            ParseSize(r.GetValue(inputSize)), r.GetValue(json), CompareRounds(r.GetValue(compare), r.GetValue(rounds))), session.Read(r)));
        return command;
    }

    private static int CompareRounds(bool compare, int rounds) =>
        !compare ? 0 : rounds >= 1 ? rounds : throw new UsageException($"--rounds must be at least 1, got {rounds}.");

    /// <summary>Settings of one benchmark; <paramref name="CompareRounds"/> is 0 without <c>--compare-ort</c>.</summary>
    private sealed record Settings(string Model, int Batch, int Iterations, int Warmup, (int H, int W)? Size, bool Json, int CompareRounds = 0);

    private static (int, int)? ParseSize(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && h > 0 && w > 0)
        {
            return (h, w);
        }

        throw new UsageException($"--input-size '{text}' is not HxW (e.g. 224x224).");
    }

    private static int Run(CliContext context, Settings s, SessionOptions options)
    {
        if (s.Batch < 1 || s.Iterations < 1 || s.Warmup < 0)
        {
            throw new UsageException($"--batch and --iterations must be at least 1 and --warmup at least 0 (got {s.Batch}, {s.Iterations}, {s.Warmup}).");
        }

        ModelFiles.Require(s.Model);
        using var session = InferenceSession.Open(s.Model, options);
        var inputs = session.Inputs.Select(i => new KeyValuePair<string, Tensor>(i.Name, RandomInput(i, s))).ToArray();
        try
        {
            if (s.CompareRounds > 0)
            {
                return CompareWithOrt(context, session, inputs, s, options);
            }

            var latencies = Measure(context, session, inputs, s);
            Array.Sort(latencies);
            var total = latencies.Sum();
            var imagesPerSecond = s.Batch * s.Iterations / (total / 1000.0);
            var p50 = Percentile(latencies, 0.5);
            var p90 = Percentile(latencies, 0.9);
            if (s.Json)
            {
                var doc = new
                {
                    imagesPerSecond = Math.Round(imagesPerSecond, 2),
                    latencyMs = new { p50 = Math.Round(p50, 3), p90 = Math.Round(p90, 3) },
                    batch = s.Batch,
                    iterations = s.Iterations,
                    device = session.Device.ToString(),
                    onnxRuntime = OrtEnvironment.Version,
                };
                context.Out.WriteLine(JsonSerializer.Serialize(doc, JsonOutput.Options));
            }
            else
            {
                context.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"[bold]{imagesPerSecond:F1} images/s[/]  latency p50 {p50:F2} ms, p90 {p90:F2} ms  (batch {s.Batch}, {s.Iterations} runs, {session.Device}, ONNX Runtime {Markup.Escape(OrtEnvironment.Version)})"));
            }
        }
        finally
        {
            foreach (var (_, t) in inputs)
            {
                t.Dispose();
            }
        }

        return 0;
    }

    /// <summary>
    /// OnnxCnn's session against ORT's own C# API on the same inputs and options: rounds alternate
    /// which side goes first (ABBA…), so drift on a shared machine hits both; medians are reported.
    /// </summary>
    private static int CompareWithOrt(CliContext context, InferenceSession session, KeyValuePair<string, Tensor>[] inputs, Settings s, SessionOptions options)
    {
        using var ort = new OrtBaseline(s.Model, options, inputs);
        void Ours() => session.Run(inputs).Dispose();
        for (var i = 0; i < s.Warmup; i++)
        {
            Ours();
            ort.Run();
        }

        var oursRounds = new double[s.CompareRounds];
        var ortRounds = new double[s.CompareRounds];
        for (var r = 0; r < s.CompareRounds; r++)
        {
            double Rate(Action run) => s.Batch * s.Iterations / (OrtBaseline.Time(run, s.Iterations).Sum() / 1000.0);
            if (r % 2 == 0)
            {
                oursRounds[r] = Rate(Ours);
                ortRounds[r] = Rate(ort.Run);
            }
            else
            {
                ortRounds[r] = Rate(ort.Run);
                oursRounds[r] = Rate(Ours);
            }

            if (!s.Json)
            {
                context.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"round {r + 1}: onnxcnn {oursRounds[r]:F1} images/s, ORT C# API {ortRounds[r]:F1} images/s"));
            }
        }

        Report(context, session.Device, s, oursRounds, ortRounds);
        return 0;
    }

    /// <summary>The comparison's result: medians of both sides, their ratio and the median of the per-round ratios.</summary>
    private static void Report(CliContext context, ExecutionDevice device, Settings s, double[] oursRounds, double[] ortRounds)
    {
        var ours = Median(oursRounds);
        var theirs = Median(ortRounds);
        var ratio = ours / theirs;
        // Each round's pair ran back to back, so its ratio is the least disturbed by drift across rounds.
        var pairRatio = Median([.. oursRounds.Zip(ortRounds, (a, b) => a / b)]);
        if (s.Json)
        {
            var doc = new
            {
                batch = s.Batch,
                iterations = s.Iterations,
                rounds = s.CompareRounds,
                device = device.ToString(),
                onnxRuntime = OrtEnvironment.Version,
                onnxcnn = new { imagesPerSecond = Math.Round(ours, 2), rounds = oursRounds.Select(v => Math.Round(v, 2)) },
                ort = new { imagesPerSecond = Math.Round(theirs, 2), rounds = ortRounds.Select(v => Math.Round(v, 2)) },
                ratio = Math.Round(ratio, 4),
                medianRoundRatio = Math.Round(pairRatio, 4),
            };
            context.Out.WriteLine(JsonSerializer.Serialize(doc, JsonOutput.Options));
        }
        else
        {
            context.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"[bold]onnxcnn {ours:F1} images/s, ORT C# API {theirs:F1} images/s, ratio {ratio:F3}[/] (median of per-round ratios {pairRatio:F3}; medians of {s.CompareRounds} rounds, batch {s.Batch}, {s.Iterations} runs each, {device}, ONNX Runtime {Markup.Escape(OrtEnvironment.Version)})"));
        }
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return Percentile(sorted, 0.5);
    }

    private static double[] Measure(CliContext context, InferenceSession session, KeyValuePair<string, Tensor>[] inputs, Settings s)
    {
        var latencies = new double[s.Iterations];
        void Loop(Action<int>? progress)
        {
            for (var i = 0; i < s.Warmup; i++)
            {
                session.Run(inputs).Dispose();
            }

            for (var i = 0; i < s.Iterations; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using (session.Run(inputs))
                {
                    latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                progress?.Invoke(i + 1);
            }
        }

        if (s.Json || !context.Console.Profile.Capabilities.Interactive)
        {
            Loop(null);
        }
        else
        {
            context.Console.Progress().Start(p =>
            {
                var task = p.AddTask("benchmark", maxValue: s.Iterations);
                Loop(n => task.Value = n);
            });
        }

        return latencies;
    }

    private static double Percentile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(position);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (position - lo));
    }

    /// <summary>A seeded random input: batch in dimension 0, HxW in the last two symbolic dimensions of an image input.</summary>
    private static Tensor RandomInput(NodeMetadata input, Settings s)
    {
        if (!input.IsTensor)
        {
            throw new UsageException($"input '{input.Name}' is not a tensor; bench infer feeds tensors only.");
        }

        var dims = Dimensions(input, s);
        var random = new Random(1234);
        switch (input.ElementType)
        {
            case TensorElementType.Float32:
                var f = Tensor<float>.Create(dims);
                foreach (ref var v in f.Span)
                {
                    v = random.NextSingle();
                }

                return f;
            case TensorElementType.UInt8:
                var b = Tensor<byte>.Create(dims);
                random.NextBytes(b.Span);
                return b;
            case TensorElementType.Int64:
                return Tensor<long>.Filled(0, dims);
            case TensorElementType.Int32:
                return Tensor<int>.Filled(0, dims);
            case TensorElementType.Bool:
                return Tensor<bool>.Filled(false, dims);
            case TensorElementType.Float64:
                var d = Tensor<double>.Create(dims);
                foreach (ref var v in d.Span)
                {
                    v = random.NextDouble();
                }

                return d;
            default:
                throw new UsageException($"input '{input.Name}' is {input.ElementType.Name()}; bench infer feeds float32, float64, uint8, int32, int64 and bool inputs.");
        }
    }

    /// <summary>The input's shape with the batch and the symbolic sizes of an image input filled in (224×224, 3 channels unless --input-size says otherwise).</summary>
    private static long[] Dimensions(NodeMetadata input, Settings s)
    {
        var dims = input.Dimensions.ToArray();
        for (var i = 0; i < dims.Length; i++)
        {
            if (i == 0)
            {
                if (dims[0] >= 0 && dims[0] != s.Batch)
                {
                    throw new UsageException($"input '{input.Name}' has a fixed batch of {dims[0]} ({input.ShapeText}); use --batch {dims[0]} or make the batch dynamic.");
                }

                dims[0] = s.Batch;
            }
            else if (dims.Length == 4 && i >= 2)
            {
                var want = s.Size is { } size ? (i == 2 ? size.H : size.W) : -1;
                if (dims[i] < 0)
                {
                    dims[i] = want > 0 ? want : 224;
                }
                else if (want > 0 && dims[i] != want)
                {
                    throw new UsageException($"--input-size {s.Size!.Value.H}x{s.Size.Value.W} does not fit input '{input.Name}' of fixed shape {input.ShapeText}.");
                }
            }
            else if (dims[i] < 0)
            {
                dims[i] = dims.Length == 4 && i == 1 ? 3 : throw new UsageException($"input '{input.Name}' {input.ShapeText} has symbolic dimension {i} that bench cannot guess.");
            }
        }

        return dims;
    }
}

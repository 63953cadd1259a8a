using System.CommandLine;
using System.Globalization;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn graph &lt;edit&gt; MODEL … -o OUT</c>: edits that write a new, validated model.</summary>
internal static class GraphCommand
{
    public static Command Create(CliContext context)
    {
        var graph = new Command("graph", "Edit a model's graph (each edit writes a new, validated ONNX file).")
        {
            Head(context), Cut(context), InputSize(context), DynamicBatch(context), Rename(context), Extract(context), AppendSoftmax(context), Clean(context),
            Reinit(context), PrependPreprocess(context),
        };
        return graph;
    }

    private sealed class Common
    {
        public Argument<string> Model { get; } = new("MODEL") { Description = "an .onnx model file" };

        public Option<string> Out { get; } = new("--output", "-o") { Description = "where to write the edited model", Required = true };

        public Option<bool> External { get; } = new("--external-data") { Description = "store weights in a data file next to the model" };

        public Option<bool> Overwrite { get; } = new(OutputFiles.OverwriteFlag) { Description = "replace OUT if it exists" };

        public Command Make(string name, string description, params Symbol[] extra)
        {
            var c = new Command(name, description) { Model, Out, External, Overwrite };
            c.Validators.Add(r =>
            {
                // Before any work: a refused run reads nothing and writes nothing.
                if (r.GetValue(Out) is { } output && File.Exists(output) && !r.GetValue(Overwrite)
                    && Path.GetFullPath(output) != Path.GetFullPath(r.GetValue(Model) ?? ""))
                {
                    r.AddError($"-o '{output}' already exists; pass {OutputFiles.OverwriteFlag} to replace it.");
                }
            });
            foreach (var s in extra)
            {
                switch (s)
                {
                    case Option o:
                        c.Add(o);
                        break;
                    case Argument a:
                        c.Add(a);
                        break;
                }
            }

            return c;
        }

        public int Write(CliContext context, ParseResult r, OnnxModel edited, string what)
        {
            var input = r.GetValue(Model)!;
            var output = r.GetValue(Out)!;
            GraphFiles.Save(edited, input, output, r.GetValue(External), r.GetValue(Overwrite));
            var summary = ModelSummary.Create(edited);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{what} -> {output} ({edited.Graph.Node.Count} nodes, {summary.TotalParams:N0} params; outputs: {string.Join(", ", summary.Outputs.Select(o => $"{o.Name} {o.Shape}"))})"));
            return 0;
        }
    }

    private static Command Head(CliContext context)
    {
        var c = new Common();
        var classes = new Option<int>("--classes") { Description = "number of classes", Required = true };
        var hidden = new Option<string?>("--hidden") { Description = "hidden dense widths, e.g. 256 or 256,128 (ReLU after each)" };
        var dropout = new Option<float>("--dropout") { Description = "dropout ratio after each hidden layer (without hidden layers: on the features, before the classifier)" };
        var seed = new Option<int>("--seed") { Description = "initialisation seed" };
        var pool = new Option<string?>("--pool") { Description = "for a backbone ending in a feature map [N,C,H,W]: gap (global average, C features) or flatten (C·H·W features)" };
        var command = c.Make("head", "Replace the classifier head with a new dense head of N classes, or add one to a backbone that ends in features.", classes, hidden, dropout, pool, seed);
        command.SetAction(r =>
        {
            var model = GraphFiles.Load(r.GetValue(c.Model)!);
            var widths = ParseWidths(r.GetValue(hidden));
            var spec = new HeadSpec { Classes = r.GetValue(classes), Hidden = widths, Dropout = r.GetValue(dropout), Seed = r.GetValue(seed), Pool = ParsePool(r.GetValue(pool)) };
            return c.Write(context, r, Refusing(() => HeadEdits.Replace(model, spec)), $"head: {spec.Classes} classes");
        });
        return command;
    }

    private static Command Cut(CliContext context)
    {
        var c = new Common();
        var at = new Option<string>("--at") { Description = "the tensor that becomes the output", Required = true };
        var pool = new Option<string?>("--pool") { Description = "gap: global-average-pool and flatten to [batch, C]" };
        var command = c.Make("cut", "Cut the model into a feature extractor ending at a tensor.", at, pool);
        command.SetAction(r =>
        {
            var poolKind = r.GetValue(pool);
            if (poolKind is not (null or "gap"))
            {
                throw new UsageException($"--pool '{poolKind}' is not supported (gap is).");
            }

            var model = GraphFiles.Load(r.GetValue(c.Model)!);
            return c.Write(context, r, Run(() => GraphEdits.Cut(model, r.GetValue(at)!, poolKind == "gap")), $"cut at {r.GetValue(at)}");
        });
        return command;
    }

    private static Command InputSize(CliContext context)
    {
        var c = new Common();
        var size = new Option<string>("--size") { Description = "HxW (e.g. 150x150), or dynamic for symbolic height and width", Required = true };
        var input = new Option<string?>("--input") { Description = "the image input (default: the first)" };
        var command = c.Make("input-size", "Set or free the height and width of the image input and re-infer shapes (refused where the graph bakes a size in).", size, input);
        command.SetAction(r =>
        {
            var text = r.GetValue(size)!;
            var model = GraphFiles.Load(r.GetValue(c.Model)!);
            if (text.Equals("dynamic", StringComparison.OrdinalIgnoreCase))
            {
                return c.Write(context, r, Refusing(() => GraphEdits.FreeInputSize(model, r.GetValue(input))), "input size: dynamic");
            }

            var (h, w) = ParseSize("--size", text);
            return c.Write(context, r, Refusing(() => GraphEdits.SetInputSize(model, h, w, r.GetValue(input))), string.Create(CultureInfo.InvariantCulture, $"input size: {h}x{w}"));
        });
        return command;
    }

    private static Command DynamicBatch(CliContext context)
    {
        var c = new Common();
        var symbol = new Option<string>("--symbol") { Description = "name of the batch dimension", DefaultValueFactory = _ => "batch" };
        var command = c.Make("dynamic-batch", "Make the batch dimension of inputs and outputs symbolic.", symbol);
        command.SetAction(r => c.Write(context, r, Run(() => GraphEdits.DynamicBatch(GraphFiles.Load(r.GetValue(c.Model)!), r.GetValue(symbol)!)), "dynamic batch"));
        return command;
    }

    private static Command Rename(CliContext context)
    {
        var c = new Common();
        var inputs = new Option<string[]>("--input") { Description = "OLD=NEW for an input (repeatable, or comma-separated)" };
        var outputs = new Option<string[]>("--output-name") { Description = "OLD=NEW for an output (repeatable, or comma-separated)" };
        var command = c.Make("rename", "Rename graph inputs and outputs.", inputs, outputs);
        command.SetAction(r =>
        {
            var i = GraphFiles.ParsePairs("--input", r.GetValue(inputs) ?? []);
            var o = GraphFiles.ParsePairs("--output-name", r.GetValue(outputs) ?? []);
            if (i.Count + o.Count == 0)
            {
                throw new UsageException("give at least one --input OLD=NEW or --output-name OLD=NEW.");
            }

            return c.Write(context, r, Run(() => GraphEdits.Rename(GraphFiles.Load(r.GetValue(c.Model)!), i, o)), "renamed");
        });
        return command;
    }

    private static Command Extract(CliContext context)
    {
        var c = new Common();
        var inputs = new Option<string>("--inputs") { Description = "comma-separated tensors that become the inputs", Required = true };
        var outputs = new Option<string>("--outputs") { Description = "comma-separated tensors that become the outputs", Required = true };
        var command = c.Make("extract", "Extract the subgraph between tensors.", inputs, outputs);
        command.SetAction(r => c.Write(context, r, Run(() => GraphEdits.Extract(GraphFiles.Load(r.GetValue(c.Model)!),
            Split(r.GetValue(inputs)!), Split(r.GetValue(outputs)!))), "extracted"));
        return command;
    }

    private static Command AppendSoftmax(CliContext context)
    {
        var c = new Common();
        var output = new Option<string?>("--on") { Description = "the output to turn into probabilities (default: the first)" };
        var command = c.Make("append-softmax", "Append Softmax to an output, keeping its name.", output);
        command.SetAction(r => c.Write(context, r, Run(() => GraphEdits.AppendSoftmax(GraphFiles.Load(r.GetValue(c.Model)!), r.GetValue(output))), "softmax appended"));
        return command;
    }

    private static Command Clean(CliContext context)
    {
        var c = new Common();
        var unshare = new Option<bool>("--unshare") { Description = "give every Identity-shared initializer its own copy" };
        var command = c.Make("clean", "Remove dead nodes, unused initializers and initializers listed as inputs.", unshare);
        command.SetAction(r =>
        {
            var (model, report) = Run(() => GraphEdits.Clean(GraphFiles.Load(r.GetValue(c.Model)!), r.GetValue(unshare)));
            return c.Write(context, r, model, $"cleaned: {report.DeadNodes} dead nodes, {report.UnusedInitializers} unused initializers, {report.InitializerInputs} initializer inputs, {report.UnsharedIdentities} shared initializers copied");
        });
        return command;
    }

    private static Command Reinit(CliContext context)
    {
        var c = new Common();
        var seed = new Option<int>("--seed") { Description = "initialisation seed" };
        var command = c.Make("reinit", "Re-initialise every parameter as a fresh PyTorch module would (from-scratch baselines).", seed);
        command.SetAction(r =>
        {
            var (model, report) = Run(() => Reinitializer.Reinitialize(GraphFiles.Load(r.GetValue(c.Model)!), r.GetValue(seed)));
            var untouched = report.Untouched.Count == 0 ? "" : $"; left as they were: {string.Join(", ", report.Untouched)}";
            return c.Write(context, r, model, string.Create(CultureInfo.InvariantCulture, $"re-initialised {report.Tensors} tensors ({report.Elements:N0} values){untouched}"));
        });
        return command;
    }

    private static Command PrependPreprocess(CliContext context)
    {
        var c = new Common();
        var spec = new Option<string>("--preprocess") { Description = "preprocess spec, e.g. imagenet-style 'scale=1/255,mean=0.485:0.456:0.406,std=0.229:0.224:0.225' or 'caffe'", Required = true };
        var input = new Option<string?>("--input") { Description = "the input to preprocess (default: the first)" };
        var command = c.Make("prepend-preprocess", "Make the input a uint8 NHWC RGB image batch and do the preprocessing in the graph.", spec, input);
        command.SetAction(r =>
        {
            OnnxCnn.Preprocess.PreprocessSpec parsed;
            try
            {
                parsed = OnnxCnn.Preprocess.PreprocessSpec.Parse(r.GetValue(spec)!);
            }
            catch (FormatException e)
            {
                throw new UsageException("--preprocess: " + e.Message);
            }

            return c.Write(context, r, Run(() => PrependPreprocessEdit.Apply(GraphFiles.Load(r.GetValue(c.Model)!), parsed, r.GetValue(input))), $"preprocessing prepended ({parsed})");
        });
        return command;
    }

    /// <summary>Runs an edit; an edit that does not apply to this model (a tensor it lacks, a head it already has) is a usage error.</summary>
    private static T Run<T>(Func<T> edit)
    {
        try
        {
            return edit();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new UsageException(CliApp.MessageOf(e));
        }
    }

    /// <summary>An edit whose refusal (the model cannot take it) is a mistake in the call: exit code 2.</summary>
    private static T Refusing<T>(Func<T> edit)
    {
        try
        {
            return Run(edit);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static HeadPool? ParsePool(string? text) => text switch
    {
        null => null,
        "gap" => HeadPool.GlobalAverage,
        "flatten" => HeadPool.Flatten,
        _ => throw new UsageException($"--pool '{text}' is not supported (gap or flatten)."),
    };

    internal static (int Height, int Width) ParseSize(string option, string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h > 0
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && w > 0
            ? (h, w) : throw new UsageException($"{option} '{text}' is not HxW with positive sizes (e.g. 150x150){(option == "--size" ? " or dynamic" : "")}.");
    }

    private static IReadOnlyList<string> Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IReadOnlyList<int> ParseWidths(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        return Split(text).Select(w => int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : throw new UsageException($"--hidden '{text}': '{w}' is not a positive width.")).ToArray();
    }
}

using System.CommandLine;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;
using Spectre.Console;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn info MODEL [--json]</c>: inputs, outputs, metadata and the runtime that loads it.</summary>
internal static class InfoCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx model file" };
        var json = new Option<bool>("--json") { Description = "machine-readable output" };
        var command = new Command("info", "Show a model's inputs, outputs and metadata as ONNX Runtime sees them.") { model, json };
        command.SetAction(r => Run(context, r.GetValue(model)!, r.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, string path, bool json)
    {
        using var session = InferenceSession.Open(ModelFiles.Require(path));
        var meta = session.Metadata;
        if (json)
        {
            var doc = new
            {
                model = path,
                onnxRuntime = OrtEnvironment.Version,
                onnxRuntimeLibrary = OrtEnvironment.LibraryPath,
                executionProviders = OrtEnvironment.AvailableProviders,
                producer = meta.ProducerName,
                graph = meta.GraphName,
                description = meta.Description,
                version = meta.Version,
                metadata = meta.Custom,
                inputs = session.Inputs.Select(Describe),
                outputs = session.Outputs.Select(Describe),
            };
            context.Out.WriteLine(JsonSerializer.Serialize(doc, JsonOutput.Options));
            return 0;
        }

        var console = context.Console;
        console.MarkupLine($"[bold]{Markup.Escape(path)}[/]  (ONNX Runtime {Markup.Escape(OrtEnvironment.Version)})");
        if (meta.ProducerName.Length > 0 || meta.GraphName.Length > 0)
        {
            console.MarkupLine($"producer: {Markup.Escape(meta.ProducerName)}   graph: {Markup.Escape(meta.GraphName)}");
        }

        var table = new Table().AddColumns("", "name", "type", "shape");
        foreach (var i in session.Inputs)
        {
            table.AddRow("input", Markup.Escape(i.Name), i.IsTensor ? i.ElementType.Name() : "non-tensor", Markup.Escape(i.ShapeText));
        }

        foreach (var o in session.Outputs)
        {
            table.AddRow("output", Markup.Escape(o.Name), o.IsTensor ? o.ElementType.Name() : "non-tensor", Markup.Escape(o.ShapeText));
        }

        console.Write(table);
        foreach (var (key, value) in meta.Custom)
        {
            var shown = value.Length > 100 ? value[..100] + "…" : value;
            console.MarkupLine($"metadata {Markup.Escape(key)} = {Markup.Escape(shown.ReplaceLineEndings(" "))}");
        }

        return 0;
    }

    private static object Describe(NodeMetadata m) => new
    {
        name = m.Name,
        type = m.IsTensor ? m.ElementType.Name() : "non-tensor",
        shape = m.Dimensions.Select((d, i) => d >= 0 ? (object)d : m.SymbolicDimensions[i] ?? (object)"?"),
    };
}

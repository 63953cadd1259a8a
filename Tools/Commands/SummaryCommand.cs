using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Graphs;
using Spectre.Console;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn summary MODEL [--json] [--input-shape 1x3xHxW]</c>: a Keras-style layer table with parameter totals.</summary>
internal static class SummaryCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx model file" };
        var json = new Option<bool>("--json") { Description = "machine-readable output" };
        var inputShape = new Option<string?>("--input-shape") { Description = "shape of the (first) input, e.g. 1x3x150x150, or NAME=1x3x150x150" };
        var command = new Command("summary", "Per-layer output shapes and parameter counts, with totals (like Keras' model.summary()).") { model, json, inputShape };
        command.SetAction(r => Run(context, r.GetValue(model)!, r.GetValue(json), r.GetValue(inputShape)));
        return command;
    }

    private static int Run(CliContext context, string path, bool json, string? inputShape)
    {
        var onnx = GraphFiles.Load(path);
        var summary = ModelSummary.Create(onnx, GraphFiles.ParseInputShape(onnx, inputShape));
        if (json)
        {
            var doc = new
            {
                layers = summary.Layers.Select(l => new { name = l.Name, op = l.Op, outputShape = ShapeJson(l.OutputShape), @params = l.Params, trainable = l.TrainableParams }),
                totalParams = summary.TotalParams,
                trainableParams = summary.TrainableParams,
                nonTrainableParams = summary.NonTrainableParams,
                inputs = summary.Inputs.Select(i => new { name = i.Name, shape = ShapeJson(i.Shape) }),
                outputs = summary.Outputs.Select(o => new { name = o.Name, shape = ShapeJson(o.Shape) }),
                opset = summary.Opset,
            };
            context.Out.WriteLine(JsonSerializer.Serialize(doc, JsonOutput.Options));
            return 0;
        }

        var table = new Table().AddColumns("Layer (type)", "Output Shape").AddColumn(new TableColumn("Param #").RightAligned());
        foreach (var l in summary.Layers)
        {
            table.AddRow(Markup.Escape($"{l.Name} ({l.Op})"), Markup.Escape(l.OutputShape.ToString()), l.Params.ToString("N0", CultureInfo.InvariantCulture));
        }

        context.Console.Write(table);
        context.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Total params: [bold]{summary.TotalParams:N0}[/]"));
        context.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Trainable params: {summary.TrainableParams:N0}"));
        context.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Non-trainable params: {summary.NonTrainableParams:N0}"));
        return 0;
    }

    private static object?[]? ShapeJson(TensorShape shape) =>
        shape.Dims?.Select(d => d.IsKnown ? (object)d.Value : d.Symbol).ToArray();
}

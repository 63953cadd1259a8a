using System.CommandLine;
using System.Globalization;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Zoo;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn zoo NAME [--classes N] [--width-mult F] [--input-size HxW] [--seed S] -o OUT</c>: torchvision-faithful models with fresh weights.</summary>
internal static class ZooCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = string.Join(" | ", ModelZoo.Names) };
        var classes = new Option<int>("--classes") { Description = "number of classes", DefaultValueFactory = _ => 1000 };
        var width = new Option<double>("--width-mult") { Description = "channel width multiplier (tiny test models)", DefaultValueFactory = _ => 1.0 };
        var size = new Option<string?>("--input-size") { Description = "HxW of the input (default 224x224)" };
        var seed = new Option<int>("--seed") { Description = "initialisation seed" };
        var output = new Option<string>("--output", "-o") { Description = "where to write the model", Required = true };
        var external = new Option<bool>("--external-data") { Description = "store weights in a data file next to the model" };
        var overwrite = new Option<bool>(OutputFiles.OverwriteFlag) { Description = "replace OUT if it exists" };
        var command = new Command("zoo", "Build VGG11/13/16/19 or ResNet-18/34/50/101 with torchvision's topology, parameter names and init.")
        {
            name, classes, width, size, seed, output, external, overwrite,
        };
        command.SetAction(r =>
        {
            OutputFiles.RequireWritable(r.GetValue(output)!, "-o", r.GetValue(overwrite));
            var (h, w) = ParseSize(r.GetValue(size));
            var options = new ZooOptions { Classes = r.GetValue(classes), WidthMultiplier = r.GetValue(width), InputHeight = h, InputWidth = w, Seed = r.GetValue(seed) };
            OnnxModel model;
            try
            {
                model = new OnnxModel(ModelZoo.Build(r.GetValue(name)!, options), r.GetValue(name));
            }
            catch (ArgumentException e)
            {
                throw new UsageException(CliApp.MessageOf(e));
            }

            var path = r.GetValue(output)!;
            model.Save(path, new SaveOptions { ExternalData = r.GetValue(external) });
            var summary = ModelSummary.Create(model);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.GetValue(name)} -> {path} ({summary.TrainableParams:N0} trainable + {summary.NonTrainableParams:N0} BatchNorm statistics; input {summary.Inputs[0].Shape}, output {summary.Outputs[0].Shape})"));
            return 0;
        });
        return command;
    }

    private static (int, int) ParseSize(string? text)
    {
        if (text is null)
        {
            return (224, 224);
        }

        var parts = text.ToLowerInvariant().Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h > 0
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && w > 0
            ? (h, w) : throw new UsageException($"--input-size '{text}' is not HxW (e.g. 224x224).");
    }
}

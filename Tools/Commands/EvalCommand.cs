using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;
using OnnxCnn.Training.Reports;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn eval MODEL --data DIR [--preprocess SPEC] [--json] [--confusion FILE.png]</c>: accuracy, macro-F1, per-class metrics, confusion.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx classifier (a fine-tuned one carries its labels and preprocessing)" };
        var data = new Option<string>("--data") { Description = "a folder with one subfolder of images per class", Required = true };
        var spec = new Option<string?>("--preprocess") { Description = "preprocess spec (default: the model's metadata, else imagenet)" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32, Description = "batch size" };
        var json = new Option<bool>("--json") { Description = "machine-readable output" };
        var confusion = new Option<string?>("--confusion") { Description = "also draw the confusion matrix into this .png file" };
        var command = new Command("eval", "Evaluate a classifier on a labelled image folder.") { model, data, spec, batch, json, confusion };
        command.SetAction(async (r, cancellationToken) =>
        {
            var onnx = GraphFiles.Load(r.GetValue(model)!);
            var meta = onnx.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var parsed = Specs.Preprocess(r.GetValue(spec) ?? meta.GetValueOrDefault(FineTuner.PreprocessKey) ?? "imagenet");
            var dataset = ImageDataset.FromFolder(r.GetValue(data)!);
            if (meta.TryGetValue(FineTuner.LabelsKey, out var labels) && !labels.Split('\n').SequenceEqual(dataset.Classes))
            {
                throw new UsageException($"the model's labels ({labels.Replace('\n', ',')}) differ from the data's class folders ({string.Join(",", dataset.Classes)}).");
            }

            var pipeline = new BatchPipeline(dataset, new PipelineOptions { BatchSize = r.GetValue(batch), Preprocess = parsed }, BatchPipeline.DefaultLoader(dataset, parsed));
            pipeline.Warning += w => context.Error.WriteLine("warning: " + w);
            var (loss, accuracy, metrics) = await FineTuner.EvaluateAsync(onnx, pipeline, Enumerable.Range(0, dataset.Items.Count).ToArray(), dataset.Classes, parsed, cancellationToken).ConfigureAwait(false);
            var m = metrics!;
            if (r.GetValue(confusion) is { } png)
            {
                TrainingCharts.SaveConfusion(png, m);
            }

            if (r.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    accuracy,
                    macroF1 = m.MacroF1,
                    loss,
                    perClass = m.PerClass.Select(c => new { label = c.Label, precision = c.Precision, recall = c.Recall, f1 = c.F1, support = c.Support }),
                    confusion = Enumerable.Range(0, m.Labels.Count).Select(i => Enumerable.Range(0, m.Labels.Count).Select(j => m.Confusion[i, j])),
                    skipped = pipeline.Skipped.Count,
                }, JsonOutput.Options));
                return 0;
            }

            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {accuracy:P2}, macro F1 {m.MacroF1:F4}, loss {loss:F4} on {m.Count} images"));
            foreach (var c in m.PerClass)
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Label}: precision {c.Precision:F3}, recall {c.Recall:F3}, F1 {c.F1:F3}, support {c.Support}"));
            }

            return 0;
        });
        return command;
    }
}

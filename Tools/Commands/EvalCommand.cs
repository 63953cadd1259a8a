using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.Training;
using OnnxCnn.Training.Reports;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn eval MODEL --data DIR [--preprocess SPEC] [--json] [--confusion FILE.png]</c>: accuracy,
/// macro-F1, per-class metrics, confusion. A shell over <see cref="Classifier"/> (the images are read
/// as <c>predict</c> and an embedding app read them) and Training's <see cref="ClassificationMetrics"/>.
/// </summary>
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
        var overwrite = new Option<bool>(OutputFiles.OverwriteFlag) { Description = "replace the --confusion PNG if it exists" };
        var session = new SessionArgs();
        var command = new Command("eval", "Evaluate a classifier on a labelled image folder.") { model, data, spec, batch, json, confusion, overwrite };
        session.AddTo(command);
        command.SetAction((r, cancellationToken) => Task.FromResult(Run(context, new Request(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(spec), r.GetValue(batch),
            r.GetValue(json), r.GetValue(confusion), r.GetValue(overwrite), session.Read(r)), cancellationToken)));
        return command;
    }

    private sealed record Request(string Model, string Data, string? Preprocess, int Batch, bool Json, string? Confusion, bool Overwrite, SessionOptions Session);

    private static int Run(CliContext context, Request request, CancellationToken cancellationToken)
    {
        if (request.Batch < 1)
        {
            throw new UsageException($"--batch must be 1 or more, got {request.Batch}.");
        }

        // The model file, the chart's path and the data folder first (cheap checks), then the model is loaded.
        ModelFiles.Require(request.Model);
        if (request.Confusion is { } chart)
        {
            OutputFiles.RequireWritable(chart, "--confusion", request.Overwrite);
        }

        var dataset = ImageDataset.FromFolder(request.Data);
        using var classifier = ClassifierFiles.Open(request.Model, new ClassifierOptions
        {
            Session = request.Session,
            Preprocess = request.Preprocess is { } text ? Specs.Preprocess(text) : null,
            BatchSize = request.Batch,
        });
        if (classifier.Metadata.TryGetValue(MetadataKeys.Labels, out var labels) && !labels.Split('\n').SequenceEqual(dataset.Classes))
        {
            throw new UsageException($"the model's labels ({labels.Replace('\n', ',')}) differ from the data's class folders ({string.Join(",", dataset.Classes)}).");
        }

        if (classifier.Labels.Count != dataset.Classes.Count)
        {
            throw new UsageException($"the model scores {classifier.Labels.Count} classes but the data has {dataset.Classes.Count} class folders ({string.Join(",", dataset.Classes)}).");
        }

        var (loss, metrics, skipped) = Evaluate(context, classifier, dataset, cancellationToken);
        if (request.Confusion is { } png)
        {
            TrainingCharts.SaveConfusion(png, metrics);
        }

        if (request.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                accuracy = metrics.Accuracy,
                macroF1 = metrics.MacroF1,
                loss,
                perClass = metrics.PerClass.Select(c => new { label = c.Label, precision = c.Precision, recall = c.Recall, f1 = c.F1, support = c.Support }),
                confusion = Enumerable.Range(0, metrics.Labels.Count).Select(i => Enumerable.Range(0, metrics.Labels.Count).Select(j => metrics.Confusion[i, j])),
                skipped,
            }, JsonOutput.Options));
            return 0;
        }

        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {metrics.Accuracy:P2}, macro F1 {metrics.MacroF1:F4}, loss {loss:F4} on {metrics.Count} images"));
        foreach (var c in metrics.PerClass)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Label}: precision {c.Precision:F3}, recall {c.Recall:F3}, F1 {c.F1:F3}, support {c.Support}"));
        }

        return 0;
    }

    /// <summary>Mean cross-entropy of the true class (−log p, p floored at 1e-12), the metrics, and how many images were unreadable.</summary>
    private static (double Loss, ClassificationMetrics Metrics, int Skipped) Evaluate(CliContext context, Classifier classifier, ImageDataset dataset, CancellationToken cancellationToken)
    {
        var scores = new List<float>();
        var labels = new List<int>();
        var loss = 0.0;
        var skipped = 0;
        var index = 0;
        foreach (var result in classifier.ClassifyEach(dataset.Items.Select(i => i.Source), cancellationToken))
        {
            var label = dataset.Items[index++].Label;
            if (!result.Succeeded)
            {
                context.Error.WriteLine($"warning: skipped '{result.Source}': {result.Error}");
                skipped++;
                continue;
            }

            loss -= Math.Log(Math.Max(result.Probabilities[label], 1e-12));
            scores.AddRange(result.Probabilities);
            labels.Add(label);
        }

        var metrics = ClassificationMetrics.FromScores(scores.ToArray(), labels, dataset.Classes, k: Math.Min(5, dataset.Classes.Count));
        return (labels.Count == 0 ? double.NaN : loss / labels.Count, metrics, skipped);
    }
}

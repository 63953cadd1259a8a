using System.CommandLine;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn predict MODEL IMAGE|FOLDER… [--top K] [--json]</c>: the top-k labels and
/// probabilities of each image. Labels and preprocessing come from the model's metadata (written
/// by <c>finetune</c>), so a fine-tuned model needs no flags. Unreadable images get a warning and
/// make the exit code 1 once every other image has been classified. A shell over <see cref="Classifier"/>.
/// </summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx classifier (a fine-tuned one carries its labels and preprocessing)" };
        var inputs = new Argument<string[]>("IMAGE|FOLDER") { Description = "image files, or folders searched recursively (.jpg, .jpeg, .png) in sorted order", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { DefaultValueFactory = _ => 5, Description = "labels shown per image" };
        var json = new Option<bool>("--json") { Description = "machine-readable output: [{\"file\", \"top\": [{\"label\", \"probability\"}]}]" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 16, Description = "images per run" };
        var spec = new Option<string?>("--preprocess") { Description = "preprocess spec (default: the model's metadata, else imagenet)" };
        var labelsFile = new Option<string?>("--labels") { Description = "a file with one label per line (default: the model's metadata, else class indices)" };
        var session = new SessionArgs();
        var command = new Command("predict", "Classify images: top-k labels with probabilities.") { model, inputs, top, json, batch, spec, labelsFile };
        session.AddTo(command);
        command.SetAction((r, cancellationToken) => Task.FromResult(Run(context, new Request(
            r.GetValue(model)!, r.GetValue(inputs)!, r.GetValue(top), r.GetValue(json), r.GetValue(batch), r.GetValue(spec), r.GetValue(labelsFile), session.Read(r)), cancellationToken)));
        return command;
    }

    private sealed record Request(string Model, string[] Inputs, int Top, bool Json, int Batch, string? Preprocess, string? LabelsFile, SessionOptions Session);

    private static int Run(CliContext context, Request request, CancellationToken cancellationToken)
    {
        if (request.Top < 1)
        {
            throw new UsageException($"--top must be 1 or more, got {request.Top}.");
        }

        if (request.Batch < 1)
        {
            throw new UsageException($"--batch must be 1 or more, got {request.Batch}.");
        }

        var options = new ClassifierOptions
        {
            Session = request.Session,
            Preprocess = request.Preprocess is { } text ? Specs.Preprocess(text) : null,
            LabelsFile = request.LabelsFile,
            BatchSize = request.Batch,
        };
        using var classifier = ClassifierFiles.Open(request.Model, options);
        var (files, missing) = CollectImages(request.Inputs);
        foreach (var m in missing)
        {
            context.Error.WriteLine($"warning: skipped '{m}': no such file or folder");
        }

        if (files.Count == 0)
        {
            throw new UsageException($"no images found in {string.Join(", ", request.Inputs.Select(i => $"'{i}'"))} (looked for {string.Join(", ", ImageDataset.ImageExtensions)}).");
        }

        // Each answer is written as its run finishes (the JSON array element by element), so a long folder shows
        // progress and nothing waits for the last image.
        var output = new PredictionWriter(context.Out, request.Json);
        var unreadable = missing.Count;
        foreach (var result in classifier.ClassifyEach(files, cancellationToken))
        {
            if (result.Succeeded)
            {
                output.Write(result.Source, result.Top(request.Top));
                continue;
            }

            context.Error.WriteLine($"warning: skipped '{result.Source}': {result.Error}");
            unreadable++;
        }

        output.Finish();
        if (unreadable > 0)
        {
            context.Error.WriteLine($"error: {unreadable} of {files.Count + missing.Count} images could not be read.");
            return 1;
        }

        return 0;
    }

    /// <summary>Files as given (any extension) and folders walked recursively for image files, each folder's files in ordinal path order.</summary>
    private static (List<string> Files, List<string> Missing) CollectImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                files.AddRange(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                    .Where(f => ImageDataset.ImageExtensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(input))
            {
                files.Add(input);
            }
            else
            {
                missing.Add(input);
            }
        }

        return (files, missing);
    }
}

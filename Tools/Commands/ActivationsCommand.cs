using System.CommandLine;
using System.Globalization;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn activations MODEL IMAGE [--layers GLOBS] [--per-row 16] [--preprocess SPEC] -o DIR [--npy] [--overwrite]</c>:
/// every channel of chosen layers' outputs for one image, one grid PNG per layer (see <see cref="ActivationGrid"/>).
/// Everything is computed and drawn before the first file is written.
/// </summary>
internal static class ActivationsCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx model" };
        var image = new Argument<string>("IMAGE") { Description = "a JPEG or PNG file" };
        var layers = new Option<string?>("--layers") { Description = "comma-separated node or tensor names, * and ? as wildcards (default: each Conv layer and pooling output before the classifier)" };
        var perRow = new Option<int>("--per-row") { DefaultValueFactory = _ => 16, Description = "channels per grid row" };
        var spec = new Option<string?>("--preprocess") { Description = "preprocess spec (default: the model's metadata, else imagenet)" };
        var output = new Option<string>("--output", "-o") { Description = "the folder to write NN_<layer>.png into", Required = true };
        var npy = new Option<bool>("--npy") { Description = "also write each layer's raw activations as NN_<layer>.npy (float32)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace files that already exist" };
        var session = new SessionArgs();
        var command = new Command("activations", "Draw every channel of a model's intermediate layers for one image, one grid per layer.")
        {
            model, image, layers, perRow, spec, output, npy, overwrite,
        };
        session.AddTo(command);
        command.SetAction(r => Run(context, new Request(r.GetValue(model)!, r.GetValue(image)!, r.GetValue(layers), r.GetValue(perRow), r.GetValue(spec),
            r.GetValue(output)!, r.GetValue(npy), r.GetValue(overwrite), session.Read(r))));
        return command;
    }

    private sealed record Request(string Model, string Image, string? Layers, int PerRow, string? Preprocess, string Output, bool Npy, bool Overwrite, SessionOptions Session);

    private static int Run(CliContext context, Request request)
    {
        if (request.PerRow < 1)
        {
            throw new UsageException($"--per-row must be 1 or more, got {request.PerRow}.");
        }

        if (File.Exists(request.Output))
        {
            throw new UsageException($"-o '{request.Output}' is a file; give a folder.");
        }

        var onnx = GraphFiles.Load(request.Model);
        var spec = InspectionArgs.Preprocess(onnx, request.Preprocess);
        var patterns = request.Layers?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var layers = patterns is null ? Activations.DefaultLayers(onnx) : InspectionArgs.Usage(() => Activations.FindLayers(onnx, patterns));
        if (layers.Count == 0)
        {
            throw new UsageException("the model has no Conv or pooling layer with a spatial output; name the layers to draw with --layers.");
        }

        var files = layers.Select((l, i) => Path.Combine(request.Output, FileStem(i, layers.Count, l.Name))).ToList();
        foreach (var file in files.SelectMany(f => request.Npy ? new[] { f + ".png", f + ".npy" } : [f + ".png"]))
        {
            InspectionArgs.RequireWritable(file, "output", request.Overwrite);
        }

        using var image = InspectionArgs.Image(request.Image, spec, onnx);
        var activations = InspectionArgs.Usage(() => Activations.Compute(onnx, image.Tensor, layers, request.Session));
        if (activations.FirstOrDefault(a => !a.IsFeatureMap) is { } flat)
        {
            throw new UsageException($"--layers: '{flat.Layer.Tensor}' is {Tensor.FormatShape(flat.Shape)}, not an N×C×H×W feature map; a grid needs one.");
        }

        // Draw everything first: a failure leaves the folder as it was.
        var pngs = activations.Select(a => ActivationGrid.Draw(a, request.PerRow)).ToList();
        for (var i = 0; i < activations.Count; i++)
        {
            InspectionArgs.WriteAtomically(files[i] + ".png", s => s.Write(pngs[i]));
            if (request.Npy)
            {
                var a = activations[i];
                using var tensor = Tensor<float>.FromSpan(a.Values, [.. a.Shape]);
                InspectionArgs.WriteAtomically(files[i] + ".npy", s => Npy.Write(s, tensor));
            }

            context.Out.WriteLine($"{files[i]}.png  {ActivationGrid.TitleOf(activations[i])}");
        }

        return 0;
    }

    /// <summary>NN_name: the position keeps files in graph order, the name says which layer.</summary>
    private static string FileStem(int index, int count, string layer)
    {
        var digits = Math.Max(2, count.ToString(CultureInfo.InvariantCulture).Length);
        var name = ModelFiles.SafeFileName(layer).Trim('_');
        return (index + 1).ToString("D" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "_" + (name.Length > 0 ? name : "layer");
    }
}

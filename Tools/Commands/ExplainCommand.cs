using System.CommandLine;
using System.Globalization;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn explain MODEL IMAGE [--class LABEL] [--layer TENSOR] -o heat.png [--cam FILE.npy] [--overwrite]</c>:
/// Grad-CAM of one image (see <see cref="GradCam"/>), drawn over the image as the model saw it.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx classifier (a fine-tuned one carries its labels and preprocessing)" };
        var image = new Argument<string>("IMAGE") { Description = "a JPEG or PNG file" };
        var cls = new Option<string?>("--class") { Description = "the class to explain: a label of the model, or a class index (default: the top prediction)" };
        var layer = new Option<string?>("--layer") { Description = "the feature map (tensor or node name; default: the last one before the classifier)" };
        var output = new Option<string>("--output", "-o") { Description = "the PNG to write (the heat map over the preprocessed image)", Required = true };
        var camFile = new Option<string?>("--cam") { Description = "also write the map as .npy (float32 H×W at the feature map's resolution, before upsampling and normalising)" };
        var colorMap = new Option<string>("--colormap") { DefaultValueFactory = _ => "jet", Description = "jet | viridis" };
        var alpha = new Option<float>("--alpha") { DefaultValueFactory = _ => 0.4f, Description = "opacity of the heat map over the image (0–1)" };
        var spec = new Option<string?>("--preprocess") { Description = "preprocess spec (default: the model's metadata, else imagenet)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace output files that already exist" };
        var session = new SessionArgs();
        var command = new Command("explain", "Grad-CAM: which parts of an image made the model choose a class.")
        {
            model, image, cls, layer, output, camFile, colorMap, alpha, spec, overwrite,
        };
        session.AddTo(command);
        command.SetAction(r => Run(context, new Request(r.GetValue(model)!, r.GetValue(image)!, r.GetValue(cls), r.GetValue(layer), r.GetValue(output)!,
            r.GetValue(camFile), r.GetValue(colorMap)!, r.GetValue(alpha), r.GetValue(spec), r.GetValue(overwrite), session.Read(r))));
        return command;
    }

    private sealed record Request(string Model, string Image, string? Class, string? Layer, string Output, string? Cam, string ColorMap, float Alpha,
        string? Preprocess, bool Overwrite, SessionOptions Session);

    private static int Run(CliContext context, Request request)
    {
        var colors = request.ColorMap.ToLowerInvariant() switch
        {
            "jet" => ColorMap.Jet,
            "viridis" => ColorMap.Viridis,
            _ => throw new UsageException($"--colormap must be jet or viridis, not '{request.ColorMap}'."),
        };
        if (request.Alpha is not (>= 0 and <= 1))
        {
            throw new UsageException($"--alpha must be between 0 and 1, got {request.Alpha.ToString(CultureInfo.InvariantCulture)}.");
        }

        InspectionArgs.RequireWritable(request.Output, "-o", request.Overwrite);
        if (request.Cam is { } camPath)
        {
            InspectionArgs.RequireWritable(camPath, "--cam", request.Overwrite);
            if (Path.GetFullPath(camPath) == Path.GetFullPath(request.Output))
            {
                throw new UsageException($"--cam '{camPath}' is the same file as -o.");
            }
        }

        var onnx = GraphFiles.Load(request.Model);
        var spec = InspectionArgs.Preprocess(onnx, request.Preprocess);
        var labels = InspectionArgs.Labels(onnx);
        using var image = InspectionArgs.Image(request.Image, spec, onnx);
        using var gradCam = InspectionArgs.Usage(() => GradCam.Create(onnx, image.Tensor.Shape, request.Layer, request.Session));
        if (labels is not null && labels.Count != gradCam.Classes)
        {
            throw new UsageException($"the model scores {gradCam.Classes} classes but its metadata has {labels.Count} labels.");
        }

        var index = request.Class is null ? (int?)null : ClassIndex(request.Class, labels, gradCam.Classes);
        var cam = gradCam.Explain(image.Tensor, index);

        // Both outputs are complete in memory before either is written.
        using var overlay = HeatmapOverlay.Draw(image.Picture, cam, colors, request.Alpha);
        var png = OnnxCnn.Preprocess.PngEncoder.Encode(overlay);
        using var map = Tensor<float>.FromSpan(cam.Map, cam.Height, cam.Width);
        InspectionArgs.WriteAtomically(request.Output, s => s.Write(png));
        if (request.Cam is { } camFile)
        {
            InspectionArgs.WriteAtomically(camFile, s => Npy.Write(s, map));
        }

        var label = labels?[cam.ClassIndex] ?? cam.ClassIndex.ToString(CultureInfo.InvariantCulture);
        var probability = Softmax(cam.Logits)[cam.ClassIndex];
        var camNote = request.Cam is null ? "" : $"; map in {request.Cam}";
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{request.Output}: Grad-CAM of '{label}' (class {cam.ClassIndex}, logit {cam.Score:F4}, probability {probability:F4}) at {cam.Layer.Tensor} ({cam.Height}×{cam.Width}){camNote}"));
        return 0;
    }

    /// <summary>A label of the model, or (when it is none) a class index.</summary>
    private static int ClassIndex(string text, IReadOnlyList<string>? labels, int classes)
    {
        if (labels is not null && labels.ToList().IndexOf(text) is >= 0 and var found)
        {
            return found;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < classes)
        {
            return index;
        }

        var known = labels is null ? $"the model has no labels; give a class index 0–{classes - 1}"
            : $"its labels are {string.Join(", ", labels.Take(10))}{(labels.Count > 10 ? $", … ({labels.Count} in all)" : "")}";
        throw new UsageException($"--class '{text}' is not a class of the model; {known}.");
    }

    private static float[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }
}

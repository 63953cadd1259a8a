using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Cli.Internal;

/// <summary>What <c>activations</c> and <c>explain</c> share: the model's preprocessing and labels, the image, library errors as usage errors.</summary>
internal static class InspectionArgs
{
    /// <summary>The model's preprocessing: <c>--preprocess</c>, else its metadata (a fine-tuned model's), else imagenet.</summary>
    public static PreprocessSpec Preprocess(OnnxModel model, string? given) =>
        Specs.Preprocess(given ?? Metadata(model, MetadataKeys.Preprocess) ?? "imagenet");

    /// <summary>The labels in the model's metadata, or null.</summary>
    public static IReadOnlyList<string>? Labels(OnnxModel model) => Metadata(model, MetadataKeys.Labels)?.Split('\n');

    /// <summary>Decodes and preprocesses the image; a missing, unreadable or wrongly sized image is a usage error naming it.</summary>
    public static InspectionImage Image(string path, PreprocessSpec spec, OnnxModel model)
    {
        if (Directory.Exists(path))
        {
            throw new UsageException($"'{path}' is a folder; give one image file.");
        }

        if (!File.Exists(path))
        {
            throw new UsageException($"image file '{path}' not found.");
        }

        try
        {
            return InspectionImage.Load(path, spec, model);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException)
        {
            throw new UsageException(CliApp.MessageOf(e));
        }
    }

    /// <summary>Runs a library call whose <see cref="ArgumentException"/> is a mistake in the command line.</summary>
    public static T Usage<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(CliApp.MessageOf(e));
        }
    }

    private static string? Metadata(OnnxModel model, string key) => model.Proto.MetadataProps.FirstOrDefault(p => p.Key == key)?.Value;
}

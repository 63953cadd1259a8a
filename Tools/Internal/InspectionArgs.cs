using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;
using OnnxCnn.Training.Inspection;

namespace OnnxCnn.Cli.Internal;

/// <summary>What <c>activations</c> and <c>explain</c> share: the model, its preprocessing and labels, the image, and safe output writing.</summary>
internal static class InspectionArgs
{
    /// <summary>The model's preprocessing: <c>--preprocess</c>, else its metadata (a fine-tuned model's), else imagenet.</summary>
    public static PreprocessSpec Preprocess(OnnxModel model, string? given) =>
        Specs.Preprocess(given ?? Metadata(model, FineTuner.PreprocessKey) ?? "imagenet");

    /// <summary>The labels in the model's metadata, or null.</summary>
    public static IReadOnlyList<string>? Labels(OnnxModel model) => Metadata(model, FineTuner.LabelsKey)?.Split('\n');

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

    /// <summary>Refuses to replace an existing file unless <paramref name="overwrite"/>; a folder in the way is always an error.</summary>
    public static void RequireWritable(string path, string option, bool overwrite)
    {
        if (Directory.Exists(path))
        {
            throw new UsageException($"{option} '{path}' is a folder; give a file name.");
        }

        if (File.Exists(path) && !overwrite)
        {
            throw new UsageException($"{option} '{path}' already exists; pass --overwrite to replace it.");
        }
    }

    /// <summary>Writes through a temporary file in the same folder and renames it into place, so a failure leaves nothing half-written.</summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Runs a library call whose <see cref="ArgumentException"/> is a mistake in the command line.</summary>
    public static T Usage<T>(Func<T> call, string? prefix = null)
    {
        try
        {
            return call();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(prefix + CliApp.MessageOf(e));
        }
    }

    private static string? Metadata(OnnxModel model, string key) => model.Proto.MetadataProps.FirstOrDefault(p => p.Key == key)?.Value;
}

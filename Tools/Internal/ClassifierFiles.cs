using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Internal;

/// <summary>Opens a <see cref="Classifier"/> for a command: a missing model, a labels file or a spec that does not fit are usage errors.</summary>
internal static class ClassifierFiles
{
    public static Classifier Open(string model, ClassifierOptions options)
    {
        ModelFiles.Require(model);
        if (options.LabelsFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new UsageException($"--labels file '{file}' not found.");
            }

            if (File.ReadAllLines(file).All(l => l.Trim().Length == 0))
            {
                throw new UsageException($"--labels file '{file}' is empty.");
            }
        }

        try
        {
            return Classifier.Open(model, options);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException)
        {
            throw new UsageException(CliApp.MessageOf(e));
        }
    }
}

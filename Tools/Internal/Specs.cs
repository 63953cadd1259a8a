using OnnxCnn.Preprocess;

namespace OnnxCnn.Cli.Internal;

/// <summary>Parsing of --preprocess and --augment, so every command reports a bad token the same way.</summary>
internal static class Specs
{
    public static PreprocessSpec Preprocess(string text)
    {
        try
        {
            return PreprocessSpec.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException("--preprocess: " + e.Message);
        }
    }

    public static AugmentSpec? Augment(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return AugmentSpec.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException("--augment: " + e.Message);
        }
    }
}

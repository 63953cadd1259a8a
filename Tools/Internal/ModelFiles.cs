namespace OnnxCnn.Cli.Internal;

/// <summary>Checks on paths given on the command line, so the error names the argument.</summary>
internal static class ModelFiles
{
    public static string Require(string path)
    {
        if (Directory.Exists(path))
        {
            throw new UsageException($"'{path}' is a folder; give the .onnx model file.");
        }

        if (!File.Exists(path))
        {
            throw new UsageException($"model file '{path}' not found.");
        }

        return path;
    }

    /// <summary>An output file name from a tensor name: characters outside [A-Za-z0-9._-] become '_'.</summary>
    public static string SafeFileName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray();
        var result = new string(chars);
        return result is "" or "." or ".." ? "_" + result : result;
    }
}

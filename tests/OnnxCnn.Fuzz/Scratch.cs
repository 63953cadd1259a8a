namespace OnnxCnn.Fuzz;

/// <summary>A per-process scratch folder for targets that must read files (external data, checkpoints).</summary>
public static class Scratch
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "onnxcnn-fuzz-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a folder in /tmp left behind by a killed fuzzer is harmless.
            }
        };
        return dir;
    });

    /// <summary>An emptied folder named after the target (targets run one input at a time per thread).</summary>
    public static string Folder(string target)
    {
        var dir = Path.Combine(Root.Value, target + "-" + Environment.CurrentManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        return dir;
    }
}

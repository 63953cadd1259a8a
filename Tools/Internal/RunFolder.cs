namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The rule for <c>finetune --out</c>: a finished or interrupted run is never replaced silently.
/// A new folder or an empty one is used as is; a run folder needs <c>--resume</c> (continue it) or
/// <c>--overwrite</c> (remove the earlier run's outputs first); a folder holding anything else is
/// refused whatever the flags, so no user file is ever deleted.
/// </summary>
internal static class RunFolder
{
    /// <summary>The files and folders a run writes at the top of its output folder (two-stage and K-fold runs add the folders).</summary>
    private static readonly string[] RunEntries = ["model.onnx", "labels.txt", "history.csv", "metrics.json", "curves.png", "confusion.png", "artifacts", "stage1"];

    /// <summary>Checks <paramref name="folder"/> before any work; true when it holds an earlier run that <paramref name="overwrite"/> allows replacing (see <see cref="Clear"/>).</summary>
    public static bool Check(string folder, bool resume, bool overwrite)
    {
        if (resume && overwrite)
        {
            throw new UsageException("--resume continues the run in --out and --overwrite replaces it; give one of them.");
        }

        if (File.Exists(folder))
        {
            throw new UsageException($"--out '{folder}' is a file; give a folder.");
        }

        if (resume || !Directory.Exists(folder))
        {
            return false;
        }

        var entries = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).ToList();
        if (entries.Count == 0)
        {
            return false;
        }

        var foreign = entries.Where(e => !IsRunEntry(e!)).ToList();
        if (foreign.Count > 0)
        {
            throw new UsageException($"--out '{folder}' holds '{foreign[0]}', which is not part of an OnnxCnn run; choose a new or empty folder.");
        }

        if (!overwrite)
        {
            throw new UsageException($"--out '{folder}' already holds a run ({string.Join(", ", entries.Order(StringComparer.Ordinal).Take(3))}…); pass --resume to continue it or --overwrite to replace it.");
        }

        return true;
    }

    /// <summary>Removes an earlier run's outputs (everything <see cref="Check"/> accepted as part of a run).</summary>
    public static void Clear(string folder)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(folder).Where(e => IsRunEntry(Path.GetFileName(e))).ToList())
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
    }

    private static bool IsRunEntry(string name) =>
        RunEntries.Contains(name, StringComparer.Ordinal)
        || name.StartsWith("fold-", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), out _)
        || name.StartsWith("model.onnx.", StringComparison.Ordinal) && name.EndsWith(".data", StringComparison.Ordinal)
        || name.EndsWith(".tmp", StringComparison.Ordinal);
}

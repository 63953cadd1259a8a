namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The rule for every command that writes: an existing result is never replaced silently. A file
/// (or a folder's file) that already exists is a usage error naming the path and the flag, unless
/// the flag was given. Checked before any work, so a refused run costs nothing and writes nothing.
/// </summary>
internal static class OutputFiles
{
    /// <summary>The flag that allows replacing an existing output.</summary>
    public const string OverwriteFlag = "--overwrite";

    /// <summary>Refuses an existing file at <paramref name="path"/> unless <paramref name="overwrite"/>; a folder there is always refused.</summary>
    public static void RequireWritable(string path, string option, bool overwrite)
    {
        if (Directory.Exists(path))
        {
            throw new UsageException($"{option} '{path}' is a folder; give a file name.");
        }

        if (File.Exists(path) && !overwrite)
        {
            throw new UsageException($"{option} '{path}' already exists; pass {OverwriteFlag} to replace it.");
        }
    }

    /// <summary>Refuses files that a run would write into <paramref name="folder"/> when any of them exists, unless <paramref name="overwrite"/>.</summary>
    public static void RequireWritable(string folder, IEnumerable<string> fileNames, string option, bool overwrite)
    {
        if (overwrite || !Directory.Exists(folder))
        {
            return;
        }

        var existing = fileNames.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        if (existing is not null)
        {
            throw new UsageException($"{option} '{folder}' already holds '{Path.GetFileName(existing)}'; pass {OverwriteFlag} to replace it.");
        }
    }

    /// <summary>Writes a file atomically: a temporary name beside it, flushed to disk, then renamed over the final name.</summary>
    public static void WriteAtomic(string path, Action<Stream> write)
    {
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "." + Path.GetFileName(path) + ".partial");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}

using System.Text;

namespace OnnxCnn.Training.Internal;

/// <summary>Text outputs written so that a name always holds a complete file, and the leftovers of killed writes.</summary>
internal static class AtomicFile
{
    /// <summary>Temporary file, flush to disk, rename: the name holds the old or the new text, never a part.</summary>
    public static void WriteText(string path, string text) => Write(path, Encoding.UTF8.GetBytes(text));

    /// <summary>Temporary file beside <paramref name="path"/>, flush to disk, rename; a failed write removes its temporary file.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                stream.Write(bytes);
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

    /// <summary>
    /// Deletes the temporary files (<c>NAME.tmp</c>) that a killed run left in its output folder —
    /// atomic writes cut before their rename, the feature caches' spill files: they are never
    /// complete outputs, and nothing reads them. Runs before this run creates any.
    /// </summary>
    public static void RemoveKilledWrites(string outputDirectory)
    {
        foreach (var folder in new[] { outputDirectory, Path.Combine(outputDirectory, "artifacts") }.Where(Directory.Exists))
        {
            foreach (var temp in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                File.Delete(temp);
            }
        }
    }

    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}

namespace OnnxCnn.Training.Inspection.Internal;

/// <summary>Writes a file under a temporary name beside it and renames it into place.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public static void Write(string path, Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        Write(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }
}

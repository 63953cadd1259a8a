using System.Globalization;

namespace OnnxCnn.Training.Internal;

/// <summary>The <c>step,loss</c> CSV of a run: one line per optimiser step, flushed each epoch.</summary>
internal sealed class StepLog : IDisposable
{
    private const string Header = "step,loss";
    private readonly StreamWriter writer;

    private StepLog(StreamWriter writer) => this.writer = writer;

    /// <summary>
    /// Opens the log. With <paramref name="keepThrough"/> (a resumed run or a later stage) the file
    /// is continued: lines of steps after it — written after the checkpoint a run resumes from —
    /// are dropped first. Without it the file starts afresh.
    /// </summary>
    public static StepLog Open(string path, int? keepThrough)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        if (keepThrough is { } last && File.Exists(path))
        {
            // Only whole lines count: a kill can cut the last line anywhere, even inside its step number.
            var kept = File.ReadLines(path).Skip(1)
                .TakeWhile(l => l.Split(',') is [var s, var loss]
                    && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step <= last
                    && float.TryParse(loss, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                .ToList();
            var temp = path + ".tmp";
            File.WriteAllLines(temp, [Header, .. kept]);
            File.Move(temp, path, overwrite: true);
            return new StepLog(new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)));
        }

        var writer = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
        writer.WriteLine(Header);
        return new StepLog(writer);
    }

    public void Write(int step, float loss) =>
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step},{loss:R}"));

    public void Flush()
    {
        writer.Flush();
        ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
    }

    public void Dispose() => writer.Dispose();
}

using System.Globalization;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// The last and best checkpoints of a stage under <c>artifacts/</c>, written atomically by
/// <see cref="TrainingSession.SaveCheckpoint"/>'s way: best on a validation improvement, then last, so a run
/// killed between them repeats the epoch, best save included. Both are written from one copy of the state.
/// </summary>
internal sealed class Checkpointer(TrainingSession session, string artifacts)
{
    public string Last { get; } = Path.Combine(artifacts, "checkpoint.onnx");

    public string Best { get; } = Path.Combine(artifacts, "best_checkpoint.onnx");

    /// <summary>
    /// Loads the last checkpoint (parameters, optimiser state, step) and returns the epoch it ended.
    /// Shuffling and augmentation are functions of (seed, epoch, index), so the remaining epochs replay exactly.
    /// </summary>
    public int Resume(int priorEpochs)
    {
        if (!File.Exists(Last))
        {
            throw new FileNotFoundException($"cannot resume: '{Last}' not found (run without --resume first).", Last);
        }

        // A checkpoint from elsewhere (or damaged metadata) is refused by name, not with a parse exception.
        var meta = session.LoadCheckpoint(Last);
        return meta.TryGetValue("epoch", out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var done) && done >= priorEpochs
            ? done
            : throw new InvalidDataException($"cannot resume: checkpoint '{Last}' has {(text is null ? "no epoch in its metadata" : $"epoch '{text}' in its metadata, not an epoch of this run")}.");
    }

    /// <summary>Saves the epoch: the best checkpoint first when it improved, then the last.</summary>
    public void Save(int epoch, bool improved)
    {
        var checkpoint = session.Checkpoint(new Dictionary<string, string> { ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture) });
        if (improved)
        {
            checkpoint.Save(Best);
        }

        checkpoint.Save(Last);
    }

    /// <summary>Restores the best epoch's weights (early stopping exports them).</summary>
    public void RestoreBest()
    {
        if (File.Exists(Best))
        {
            session.LoadCheckpoint(Best);
        }
    }

    /// <summary>The step count a checkpoint file holds (stage 2 numbers its step log after stage 1's).</summary>
    public static int Steps(string path) =>
        Graphs.OnnxModel.Load(path).Proto.MetadataProps.FirstOrDefault(p => p.Key == TrainingSession.StepMetadataKey) is { } entry
            ? int.Parse(entry.Value, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"checkpoint '{path}' has no step count.");
}

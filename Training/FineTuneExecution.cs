using OnnxCnn.Runtime;

namespace OnnxCnn.Training;

/// <summary>
/// How one fine-tune executes and who hears from it — an argument of the run, not a setting: nothing here changes what
/// is trained, so it is not part of <see cref="FineTuneOptions"/>, not validated with them, and may differ between a run
/// and its resume.
/// </summary>
public sealed record FineTuneExecution
{
    /// <summary>
    /// How the prefix, step and evaluation sessions are built (device, threads, profiling); null = ONNX Runtime's CPU
    /// defaults. Copied when the run starts: changing it afterwards does not reach a running fine-tune.
    /// </summary>
    public SessionOptions? Session { get; init; }

    /// <summary>
    /// The one progress channel (Keras callbacks, HF Trainer's on_step_end / on_epoch_end): a report after every optimiser
    /// step, and one more when each epoch has ended — validated, written to history.csv and checkpointed — carrying its
    /// <see cref="FineTuneProgress.Completed"/> result. Called on the training thread; null = no reports.
    /// </summary>
    public IProgress<FineTuneProgress>? Progress { get; init; }

    /// <summary>Receives warnings (images skipped because they could not be read), or null.</summary>
    public Action<string>? Warning { get; init; }
}

using System.Globalization;
using OnnxCnn.Training;
using Spectre.Console;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// Shows a fine-tune's progress: on a terminal a Spectre progress bar per epoch (epoch, batch, loss,
/// accuracy, images/s, ETA), left on screen with the epoch's summary when it ends; when output is
/// redirected, one summary line per epoch (and a line when a fold or stage starts).
/// </summary>
internal sealed class FineTuneView : IProgress<FineTuneProgress>
{
    private readonly CliContext context;
    private readonly int folds;
    private readonly int epochs;
    private readonly Lock gate = new();
    private ProgressContext? live;
    private ProgressTask? task;
    private (int Fold, int Stage) section;

    private FineTuneView(CliContext context, int folds, int epochs)
    {
        this.context = context;
        this.folds = folds;
        this.epochs = epochs;
    }

    /// <summary>Runs <paramref name="run"/> with a view on <paramref name="context"/>'s console.</summary>
    /// <param name="context">Where to write.</param>
    /// <param name="folds">K of a K-fold run, else 0.</param>
    /// <param name="epochs">Planned epochs of one run (both stages).</param>
    /// <param name="run">The fine-tune, given the view as its progress channel.</param>
    /// <param name="twoStage">Whether the run has two stages.</param>
    public static async Task RunAsync(CliContext context, int folds, int epochs, Func<FineTuneView, Task> run, bool twoStage)
    {
        var view = new FineTuneView(context, folds, epochs) { IsTwoStage = twoStage };
        if (!context.Console.Profile.Capabilities.Interactive)
        {
            await run(view).ConfigureAwait(false);
            return;
        }

        await context.Console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn())
            .StartAsync(async p =>
            {
                view.live = p;
                await run(view).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>A step report updates the running bar; the report that ends an epoch (<see cref="FineTuneProgress.Completed"/>) leaves its summary line.</summary>
    public void Report(FineTuneProgress value)
    {
        lock (gate)
        {
            if (value.Completed is { } epoch)
            {
                EpochLine(value, epoch);
                return;
            }

            if (live is null && value.Fold != section.Fold && folds > 0)
            {
                context.Out.WriteLine($"fold {value.Fold}/{folds}");
            }

            if (live is null && (value.Fold, value.Stage) != section && IsTwoStage)
            {
                context.Out.WriteLine(value.Stage == 1 ? "stage 1: the new head, base frozen" : "stage 2: the unfrozen layers with the head");
            }

            section = (value.Fold, value.Stage);
            if (live is null)
            {
                return;
            }

            var label = Markup.Escape(Prefix(value) + Running(value));
            task ??= live.AddTask(label, maxValue: value.Batches);
            task.MaxValue = value.Batches;
            task.Value = value.Batch;
            task.Description = label;
        }
    }

    /// <summary>Whether the run has two stages (set before it starts).</summary>
    public bool IsTwoStage { get; init; }

    /// <summary>The end of an epoch: its summary line, in place of its bar on a terminal.</summary>
    private void EpochLine(FineTuneProgress end, EpochResult e)
    {
        var speed = end.ImagesPerSecond > 0 ? string.Create(CultureInfo.InvariantCulture, $", {end.ImagesPerSecond:F0} images/s") : "";
        var line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch}/{(end.Epochs > 0 ? end.Epochs : epochs)}: loss {e.TrainLoss:F4}, accuracy {e.TrainAccuracy:P1}{(double.IsNaN(e.ValidationLoss) ? "" : string.Create(CultureInfo.InvariantCulture, $", val loss {e.ValidationLoss:F4}, val accuracy {e.ValidationAccuracy:P1}"))} ({e.Seconds:F1} s{speed})");
        if (live is null)
        {
            context.Out.WriteLine(line);
            return;
        }

        var done = task ?? live.AddTask("epoch", maxValue: 1);
        done.Description = Markup.Escape(Prefix(end) + line);
        done.Value = done.MaxValue;
        done.StopTask();
        task = null;
    }

    /// <summary>A running epoch's label: <c>epoch 1/5 · batch 3/40 · loss 0.4213 · accuracy 81.2% · 152 images/s · ETA 0:12</c>.</summary>
    internal static string Running(FineTuneProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {p.Epoch}/{p.Epochs} · batch {p.Batch}/{p.Batches} · loss {p.Loss:F4} · accuracy {p.Accuracy:P1} · {p.ImagesPerSecond:F0} images/s · ETA {(int)p.Remaining.TotalMinutes}:{p.Remaining.Seconds:D2}");

    private string Prefix(FineTuneProgress p) =>
        (folds > 0 ? $"fold {p.Fold}/{folds} · " : "") + (IsTwoStage ? $"stage {p.Stage} · " : "");
}

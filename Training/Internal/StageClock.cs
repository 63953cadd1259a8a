using System.Diagnostics;
using System.Text.Json.Nodes;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Where a stage's wall time goes, for the <c>throughput</c> block of metrics.json. The run's images/s is the
/// training images stepped on divided by the seconds of the epochs' training phases (decode, augmentation, prefix,
/// step and the step log, as they overlap); one-time setup (graph edits, compile, sessions), validation,
/// checkpoints with history and curves, and the final evaluation and export are timed apart and stated beside it.
/// </summary>
internal sealed class StageClock
{
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private TimeSpan mark;

    /// <summary>Seconds from the stage's start to its first epoch (plan, compile, sessions, pipelines).</summary>
    public double SetupSeconds { get; private set; }

    /// <summary>Seconds of the epochs' training phases.</summary>
    public double TrainSeconds { get; private set; }

    /// <summary>Of <see cref="TrainSeconds"/>, the seconds the step loop waited for a decoded batch.</summary>
    public double InputWaitSeconds { get; private set; }

    /// <summary>Training images stepped on.</summary>
    public long TrainImages { get; private set; }

    /// <summary>Optimiser steps taken.</summary>
    public int Steps { get; private set; }

    /// <summary>Seconds of the per-epoch validations.</summary>
    public double ValidationSeconds { get; private set; }

    /// <summary>Seconds of checkpoints, history.csv, curves.png and the step log's flush.</summary>
    public double BookkeepingSeconds { get; private set; }

    /// <summary>Seconds of the final evaluation, the export and the final reports.</summary>
    public double FinishSeconds { get; private set; }

    /// <summary>Training images per second of the training phases (NaN before any).</summary>
    public double ImagesPerSecond => TrainSeconds > 0 ? TrainImages / TrainSeconds : double.NaN;

    /// <summary>Seconds of the stage's first step (its first batch, prefix and ONNX Runtime's first runs), part of <see cref="TrainSeconds"/>.</summary>
    public double FirstStepSeconds { get; private set; } = double.NaN;

    /// <summary>
    /// Images per second after the stage's first step — the steady rate, comparable with <c>bench train</c>, which
    /// times its steps after one warm-up step (NaN with a single step).
    /// </summary>
    public double SteadyImagesPerSecond { get; private set; } = double.NaN;

    private int firstStepImages;

    /// <summary>Ends the setup phase.</summary>
    public void SetupDone() => SetupSeconds += Lap();

    /// <summary>Ends an epoch's training phase with its totals.</summary>
    public void TrainDone(EpochTotals totals)
    {
        if (Steps == 0 && totals.Batches > 0)
        {
            FirstStepSeconds = totals.FirstStepSeconds;
            firstStepImages = totals.FirstStepImages;
        }

        TrainSeconds += Lap();
        InputWaitSeconds += totals.InputWait.TotalSeconds;
        TrainImages += totals.Seen;
        Steps += totals.Batches;
        var steady = TrainSeconds - FirstStepSeconds;
        SteadyImagesPerSecond = Steps > 1 && steady > 0 ? (TrainImages - firstStepImages) / steady : double.NaN;
    }

    /// <summary>Ends an epoch's validation.</summary>
    public void ValidationDone() => ValidationSeconds += Lap();

    /// <summary>Ends an epoch's checkpoints and reports.</summary>
    public void BookkeepingDone() => BookkeepingSeconds += Lap();

    /// <summary>Ends the final evaluation and export.</summary>
    public void FinishDone() => FinishSeconds += Lap();

    /// <summary>The <c>throughput</c> block of metrics.json.</summary>
    public JsonObject ToJson() => new()
    {
        ["trainImages"] = TrainImages,
        ["steps"] = Steps,
        ["trainSeconds"] = Round(TrainSeconds),
        ["imagesPerSecond"] = double.IsNaN(ImagesPerSecond) ? null : Math.Round(ImagesPerSecond, 2),
        ["inputWaitSeconds"] = Round(InputWaitSeconds),
        ["firstStepSeconds"] = double.IsNaN(FirstStepSeconds) ? null : Round(FirstStepSeconds),
        ["steadyImagesPerSecond"] = double.IsNaN(SteadyImagesPerSecond) ? null : Math.Round(SteadyImagesPerSecond, 2),
        ["setupSeconds"] = Round(SetupSeconds),
        ["validationSeconds"] = Round(ValidationSeconds),
        ["bookkeepingSeconds"] = Round(BookkeepingSeconds),
        ["finishSeconds"] = Round(FinishSeconds),
    };

    private static double Round(double seconds) => Math.Round(seconds, 6);

    private double Lap()
    {
        var now = watch.Elapsed;
        var lap = now - mark;
        mark = now;
        return lap.TotalSeconds;
    }
}

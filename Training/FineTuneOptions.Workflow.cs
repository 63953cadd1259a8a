using OnnxCnn.Runtime;

namespace OnnxCnn.Training;

/// <summary>Workflow settings: device, step log, progress, the second stage, and what a stage or fold inherits.</summary>
public sealed partial record FineTuneOptions
{
    /// <summary>How the prefix, step and evaluation sessions are built (device, threads); null = ONNX Runtime's CPU defaults.</summary>
    public SessionOptions? Session { get; init; }

    /// <summary>A CSV file that gets <c>step,loss</c> for every optimiser step (flushed each epoch; continued on resume), or null.</summary>
    public string? StepLog { get; init; }

    /// <summary>Receives a report after every optimiser step (called on the training thread), or null.</summary>
    public IProgress<FineTuneProgress>? Progress { get; init; }

    /// <summary>
    /// The two-stage recipe: stage 1 trains only the head (the rest of <see cref="Spec"/>'s selection is
    /// ignored) for <see cref="Epochs"/> at <see cref="LearningRate"/>; stage 2 starts from its weights and
    /// trains this selection. Null = one stage.
    /// </summary>
    public TwoStageOptions? SecondStage { get; init; }

    /// <summary>Epochs of earlier stages: this run's epochs are numbered after them and history.csv starts with them.</summary>
    internal IReadOnlyList<EpochResult> PriorHistory { get; init; } = [];

    /// <summary>Optimiser steps of earlier stages (the step log numbers this run's steps after them).</summary>
    internal int PriorSteps { get; init; }

    /// <summary>Epochs of the whole run as progress reports show them (null = prior epochs + <see cref="Epochs"/>).</summary>
    internal int? ProgressEpochs { get; init; }

    /// <summary>1 or 2 in a two-stage run, else 1.</summary>
    internal int Stage { get; init; } = 1;

    /// <summary>1-based fold of a K-fold run, else 0.</summary>
    internal int Fold { get; init; }

    /// <summary>Explicit training and validation indices (K-fold), overriding <see cref="ValidationSplit"/>.</summary>
    internal (int[] Train, int[] Validation)? Split { get; init; }
}

/// <summary>Stage 2 of the two-stage recipe: what to unfreeze, at which rate, for how long.</summary>
public sealed record TwoStageOptions
{
    /// <summary>Node/parameter name globs to train in stage 2 (the head trained in stage 1 is added).</summary>
    public IReadOnlyList<string> Trainable { get; init; } = [];

    /// <summary>Train everything downstream of this tensor in stage 2 (used when <see cref="Trainable"/> is empty).</summary>
    public string? UnfreezeFrom { get; init; }

    /// <summary>Stage 2's epochs.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Stage 2's base learning rate; null = a tenth of stage 1's.</summary>
    public float? LearningRate { get; init; }
}

/// <summary>A report after one optimiser step.</summary>
/// <param name="Stage">1, or 2 in the second stage of a two-stage run.</param>
/// <param name="Fold">1-based fold of a K-fold run, else 0.</param>
/// <param name="Epoch">1-based epoch, counted across stages.</param>
/// <param name="Epochs">Epochs planned for the whole run (early stopping may end it sooner).</param>
/// <param name="Batch">1-based batch within the epoch.</param>
/// <param name="Batches">Batches in the epoch.</param>
/// <param name="Images">Images trained on so far in this epoch.</param>
/// <param name="Loss">Mean training loss so far in this epoch.</param>
/// <param name="Accuracy">Training accuracy so far in this epoch.</param>
/// <param name="ImagesPerSecond">Training throughput so far in this epoch.</param>
/// <param name="Remaining">Estimated time left in this epoch's training (validation not included).</param>
public sealed record FineTuneProgress(int Stage, int Fold, int Epoch, int Epochs, int Batch, int Batches, long Images, double Loss, double Accuracy,
    double ImagesPerSecond, TimeSpan Remaining);

/// <summary>What one stage leaves behind: its history (with earlier stages'), and the exported model's validation numbers.</summary>
internal sealed record StageOutcome(IReadOnlyList<EpochResult> History, double ValidationLoss, ClassificationMetrics? Validation, IReadOnlyList<string> Parameters, TrainingMode Mode);

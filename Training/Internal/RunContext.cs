namespace OnnxCnn.Training.Internal;

/// <summary>
/// The state of one stage of a run — where it writes, what came before it, how it executes and who listens — kept apart
/// from the settings (<see cref="FineTuneOptions"/>): a two-stage run or a K-fold run derives one per stage or fold.
/// </summary>
internal sealed record RunContext(string OutputDirectory)
{
    /// <summary>Epochs of earlier stages: this stage's epochs are numbered after them and history.csv starts with them.</summary>
    public IReadOnlyList<EpochResult> PriorHistory { get; init; } = [];

    /// <summary>Optimiser steps of earlier stages (the step log numbers this stage's steps after them).</summary>
    public int PriorSteps { get; init; }

    /// <summary>Epochs of the whole run as progress reports show them (null = prior epochs + this stage's).</summary>
    public int? ProgressEpochs { get; init; }

    /// <summary>1 or 2 in a two-stage run, else 1.</summary>
    public int Stage { get; init; } = 1;

    /// <summary>1-based fold of a K-fold run, else 0.</summary>
    public int Fold { get; init; }

    /// <summary>Explicit training and validation indices (a K-fold's fold), overriding the validation split.</summary>
    public (int[] Train, int[] Validation)? Split { get; init; }

    /// <summary>Stage 2 of a two-stage run: stage 1's metrics.json and rate, for the <c>stages</c> array of this stage's metrics.json.</summary>
    public (System.Text.Json.Nodes.JsonObject Metrics, float LearningRate)? EarlierStage { get; init; }

    /// <summary>Continue this stage from its last checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>The step log of this stage (a K-fold run has one per fold), or null.</summary>
    public string? StepLog { get; init; }

    /// <summary>The training sessions' options (<see cref="FineTuner.TrainingSessionOptions"/> of the run's, a copy), or null for ONNX Runtime's CPU defaults.</summary>
    public Runtime.SessionOptions? Session { get; init; }

    /// <summary>The one progress channel: every optimiser step and every finished epoch.</summary>
    public IProgress<FineTuneProgress>? Progress { get; init; }

    /// <summary>Receives warnings (skipped images), or null.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>The folder of checkpoints and training graphs.</summary>
    public string Artifacts => Path.Combine(OutputDirectory, "artifacts");
}

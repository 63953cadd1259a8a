namespace OnnxCnn.Training;

/// <summary>Learning-rate schedules (the rate is a graph input, so no schedule needs a rebuild).</summary>
public enum ScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,
    /// <summary>Multiply by <see cref="LearningRateSchedule.Gamma"/> every <see cref="LearningRateSchedule.StepEpochs"/> epochs.</summary>
    Step,
    /// <summary>Cosine annealing from the base rate to 0 over the run.</summary>
    Cosine,
    /// <summary>One-cycle: linear warm-up to the base rate over 30 % of the run, then cosine down to base/1e4.</summary>
    OneCycle,
}

/// <summary>A learning-rate schedule over optimiser steps, with optional linear warm-up.</summary>
public sealed record LearningRateSchedule
{
    /// <summary>Base (peak) learning rate.</summary>
    public float BaseRate { get; init; } = 0.01f;

    /// <summary>The schedule.</summary>
    public ScheduleKind Kind { get; init; } = ScheduleKind.Constant;

    /// <summary>Linear warm-up steps from 0 (before the schedule proper).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Step schedule: epochs between decays.</summary>
    public int StepEpochs { get; init; } = 10;

    /// <summary>Step schedule: decay factor.</summary>
    public float Gamma { get; init; } = 0.1f;

    /// <summary>The rate for a 0-based optimiser step, given the steps per epoch and the total steps.</summary>
    public float At(int step, int stepsPerEpoch, int totalSteps)
    {
        if (step < WarmupSteps)
        {
            return BaseRate * (step + 1) / WarmupSteps;
        }

        var progress = totalSteps <= 1 ? 0 : (double)step / (totalSteps - 1);
        return Kind switch
        {
            ScheduleKind.Step => BaseRate * MathF.Pow(Gamma, step / Math.Max(1, stepsPerEpoch) / Math.Max(1, StepEpochs)),
            ScheduleKind.Cosine => (float)(BaseRate * 0.5 * (1 + Math.Cos(Math.PI * progress))),
            ScheduleKind.OneCycle => progress < 0.3
                ? (float)(BaseRate * (0.04 + (0.96 * progress / 0.3)))
                : (float)((BaseRate / 1e4) + ((BaseRate - (BaseRate / 1e4)) * 0.5 * (1 + Math.Cos(Math.PI * (progress - 0.3) / 0.7)))),
            _ => BaseRate,
        };
    }
}

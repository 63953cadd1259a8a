namespace OnnxCnn.Training.Tests;

public class ScheduleTests
{
    [Fact]
    public void Constant_IsTheBaseRate() =>
        Assert.Equal(0.1f, new LearningRateSchedule { BaseRate = 0.1f }.At(57, 10, 100));

    [Fact]
    public void Warmup_RisesLinearly_ThenSchedule()
    {
        var s = new LearningRateSchedule { BaseRate = 1f, WarmupSteps = 4 };
        Assert.Equal([0.25f, 0.5f, 0.75f, 1f, 1f], Enumerable.Range(0, 5).Select(i => s.At(i, 10, 100)));
    }

    [Fact]
    public void Step_DecaysEveryStepEpochs()
    {
        var s = new LearningRateSchedule { BaseRate = 1f, Kind = ScheduleKind.Step, StepEpochs = 2, Gamma = 0.5f };
        Assert.Equal(1f, s.At(19, 10, 100));
        Assert.Equal(0.5f, s.At(20, 10, 100));
        Assert.Equal(0.25f, s.At(45, 10, 100));
    }

    [Fact]
    public void Cosine_GoesFromBaseToZero()
    {
        var s = new LearningRateSchedule { BaseRate = 2f, Kind = ScheduleKind.Cosine };
        Assert.Equal(2f, s.At(0, 10, 101), 1e-6f);
        Assert.Equal(1f, s.At(50, 10, 101), 1e-6f);
        Assert.Equal(0f, s.At(100, 10, 101), 1e-6f);
    }

    [Fact]
    public void OneCycle_PeaksAtThirtyPercent()
    {
        var s = new LearningRateSchedule { BaseRate = 1f, Kind = ScheduleKind.OneCycle };
        var rates = Enumerable.Range(0, 101).Select(i => s.At(i, 10, 101)).ToArray();
        Assert.Equal(30, Array.IndexOf(rates, rates.Max()));
        Assert.InRange(rates[100], 0f, 1e-3f);
        Assert.InRange(rates[0], 0.03f, 0.05f);
    }
}

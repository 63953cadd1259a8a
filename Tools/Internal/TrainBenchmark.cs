using System.Diagnostics;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Runtime;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Internal;

/// <summary>One interleaved round of <c>bench train</c>: milliseconds per step and per forward, and their ratio.</summary>
/// <param name="StepMs">Wall time per training step (overlapped: with the next batch's prefix running alongside).</param>
/// <param name="FullForwardMs">One inference forward of the whole model at the same batch.</param>
/// <param name="TrainableForwardMs">One inference forward of the trainable part (boundary tensor → output) at the same batch.</param>
internal sealed record TrainRound(double StepMs, double FullForwardMs, double TrainableForwardMs)
{
    /// <summary>What a step would cost if it cost the whole forward plus the trainable part's forward twice (its backward).</summary>
    public double IdealStepMs => FullForwardMs + (2 * TrainableForwardMs);

    /// <summary>The ideal step over the measured one: 1 is a step as cheap as its forwards say it could be.</summary>
    public double Efficiency => IdealStepMs / StepMs;
}

/// <summary>
/// The step and its yardsticks, timed in the same process with the same session options: inference sessions on the
/// whole (headed) model and on the trainable sub-graph (a Graphs extract from the freeze boundary to the output), run
/// in rounds that alternate with the step rounds so that load from elsewhere on the machine weighs on both alike.
/// </summary>
internal sealed class TrainBenchmark : IDisposable
{
    private readonly TrainingSession training;
    private readonly InferenceSession full;
    private readonly InferenceSession trainable;
    private readonly Tensor<float> batch;
    private readonly Tensor<long> labels;
    private readonly Tensor<float> features;
    private readonly int steps;

    public TrainBenchmark(TrainingSession training, Tensor<float> batch, Tensor<long> labels, int steps, bool overlapped)
    {
        this.training = training;
        this.batch = batch;
        this.labels = labels;
        this.steps = steps;
        Overlapped = overlapped && training.HasPrefix;
        var source = training.Source;
        var output = source.Graph.Output[0].Name;
        var part = GraphEdits.Extract(source, [training.Graph.Input], [output]);
        try
        {
            full = InferenceSession.FromBytes(source.ToBytes(), training.PartOptions("forward_full"));
            trainable = InferenceSession.FromBytes(part.ToBytes(), training.PartOptions("forward_trainable"));
            features = training.Features(batch);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>True when the next batch's prefix runs while the current step trains (only with a frozen prefix).</summary>
    public bool Overlapped { get; }

    /// <summary>One untimed step and one untimed forward of each kind (first-run allocations, kernel pre-packing).</summary>
    public void WarmUp()
    {
        training.Step(batch, labels, 0.01f);
        full.Run(batch).Dispose();
        trainable.Run(features).Dispose();
    }

    /// <summary>One round: the steps, then as many forwards of the whole model and of the trainable part.</summary>
    public TrainRound Round()
    {
        var stepMs = TimeSteps() / steps;
        var fullMs = Time(() => full.Run(batch).Dispose()) / steps;
        var trainableMs = Time(() => trainable.Run(features).Dispose()) / steps;
        return new TrainRound(stepMs, fullMs, trainableMs);
    }

    private double Time(Action forward)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            forward();
        }

        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// The timed steps. Overlapped, the first batch's features are ready before the clock starts and every step runs
    /// alongside the prefix of the batch after it, as finetune's pipeline does in steady state.
    /// </summary>
    private double TimeSteps()
    {
        if (!Overlapped)
        {
            return Time(() => training.Step(batch, labels, 0.01f));
        }

        var current = training.Features(batch);
        var watch = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < steps; i++)
            {
                var next = Task.Run(() => training.Features(batch));
                try
                {
                    training.StepOnFeatures(current, labels, 0.01f);
                }
                finally
                {
                    current.Dispose();
                    current = next.GetAwaiter().GetResult();
                }
            }

            return watch.Elapsed.TotalMilliseconds;
        }
        finally
        {
            current.Dispose();
        }
    }

    /// <summary>Releases the inference sessions and the cached features (the training session is the caller's).</summary>
    public void Dispose()
    {
        features?.Dispose();
        trainable?.Dispose();
        full?.Dispose();
    }

    /// <summary>The median of a non-empty list (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

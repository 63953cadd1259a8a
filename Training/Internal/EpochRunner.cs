using System.Diagnostics;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// One training epoch: batches in the epoch's order → optimiser steps at the schedule's rates. With the
/// feature cache filled it trains on cached prefix outputs; otherwise it decodes batches through the
/// pipeline, and with a frozen prefix the next batch's prefix runs while the current step trains.
/// </summary>
internal sealed class EpochRunner(TrainingSession session, BatchPipeline pipeline, FeatureCache? cache, ImageDataset data, int batchSize, bool nhwc)
{
    /// <summary>
    /// Trains on <paramref name="order"/>; <paramref name="nextRate"/> gives each step's learning rate and
    /// <paramref name="stepDone"/> hears of every step with the epoch's totals so far.
    /// </summary>
    public async Task<EpochTotals> RunAsync(int[] order, int epoch, Func<float> nextRate, CancellationToken cancellationToken, Action<StepResult, EpochTotals>? stepDone = null)
    {
        var totals = new EpochTotals(stepDone);
        if (cache is { Count: > 0 })
        {
            TrainOnCache(order, totals, nextRate, cancellationToken);
        }
        else
        {
            await TrainOnBatchesAsync(order, epoch, totals, nextRate, cancellationToken).ConfigureAwait(false);
        }

        return totals;
    }

    /// <summary>Feature cache: no decoding and no prefix after the first epoch.</summary>
    private void TrainOnCache(int[] order, EpochTotals totals, Func<float> nextRate, CancellationToken cancellationToken)
    {
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var indices = order.Skip(start).Take(batchSize).Where(cache!.Contains).ToArray();
            if (indices.Length == 0)
            {
                continue;
            }

            using var features = cache!.Gather(indices);
            var labels = indices.Select(i => data.Items[i].Label).ToArray();
            using var y = LabelTensor(labels);
            Account(session.StepOnFeatures(features, y, nextRate(), cancellationToken), totals, labels);
        }
    }

    private async Task TrainOnBatchesAsync(int[] order, int epoch, EpochTotals totals, Func<float> nextRate, CancellationToken cancellationToken)
    {
        // The next batch's prefix runs while the current batch's step trains (neither session's threads spin,
        // so the two share the cores); the steps stay in order, so results are unchanged.
        // The pipeline's workers are dedicated threads, and the prefix gets its own (LongRunning) thread: the step blocks
        // this thread, and on the thread pool the three would wait for the pool to grow.
        PrefixedBatch? pending = null;
        using var batches = pipeline.Batches(order, epoch, cancellationToken).GetEnumerator();
        try
        {
            while (true)
            {
                var asked = Stopwatch.GetTimestamp();
                if (!batches.MoveNext())
                {
                    break;
                }

                totals.Waited(Stopwatch.GetElapsedTime(asked));
                var batch = batches.Current;
                var x = InputTensor(batch, pipeline.OutputSize, nhwc);
                if (!session.HasPrefix)
                {
                    using (batch)
                    using (x)
                    using (var y = LabelTensor(batch))
                    {
                        Account(session.Step(x, y, nextRate(), cancellationToken), totals, batch.Labels.AsSpan(0, batch.Count));
                    }

                    continue;
                }

                var previous = pending;
                pending = new PrefixedBatch(batch, x, Task.Factory.StartNew(() => session.Features(x, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));
                if (previous is not null)
                {
                    await StepAsync(previous, totals, nextRate, cancellationToken).ConfigureAwait(false);
                }
            }

            if (pending is { } last)
            {
                pending = null;
                await StepAsync(last, totals, nextRate, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (pending is not null)
            {
                await pending.AbandonAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task StepAsync(PrefixedBatch item, EpochTotals totals, Func<float> nextRate, CancellationToken cancellationToken)
    {
        using (item.Batch)
        using (item.X)
        using (var y = LabelTensor(item.Batch))
        using (var features = await item.Features.ConfigureAwait(false))
        {
            cache?.AddBatch(item.Batch.Indices.AsSpan(0, item.Batch.Count), features);
            Account(session.StepOnFeatures(features, y, nextRate(), cancellationToken), totals, item.Batch.Labels.AsSpan(0, item.Batch.Count));
        }
    }

    private static void Account(StepResult step, EpochTotals totals, ReadOnlySpan<int> labels) => totals.Add(step, labels);

    /// <summary>A batch's pixels as the model input tensor (a view of the batch's buffer).</summary>
    public static Tensor<float> InputTensor(ImageBatch batch, (int Height, int Width) size, bool nhwc)
    {
        long[] shape = nhwc ? [batch.Count, size.Height, size.Width, 3] : [batch.Count, 3, size.Height, size.Width];
        return Tensor<float>.Wrap(batch.Buffer, shape);
    }

    public static Tensor<long> LabelTensor(ImageBatch batch) => LabelTensor(batch.Labels.AsSpan(0, batch.Count));

    public static Tensor<long> LabelTensor(ReadOnlySpan<int> labels)
    {
        var values = new long[labels.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = labels[i];
        }

        return Tensor<long>.FromSpan(values, values.Length);
    }

    /// <summary>A decoded batch whose prefix output is being computed.</summary>
    private sealed record PrefixedBatch(ImageBatch Batch, Tensor<float> X, Task<Tensor<float>> Features)
    {
        public async Task AbandonAsync()
        {
            try
            {
                (await Features.ConfigureAwait(false)).Dispose();
            }
            catch (Exception e) when (e is OperationCanceledException or OnnxRuntimeException)
            {
                // The step that failed is what the caller sees.
            }

            X.Dispose();
            Batch.Dispose();
        }
    }
}

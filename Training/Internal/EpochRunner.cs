using System.Diagnostics;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// One training epoch: batches in the epoch's order → optimiser steps at the schedule's rates. With the
/// feature cache filled it trains on cached prefix outputs; otherwise it decodes batches through the
/// pipeline, and with a frozen prefix the next batch's prefix runs while the current step trains.
/// End to end, one pipeline spans the stage's epochs: the next epoch's first batches are decoded, and the
/// first one's prefix runs, while an epoch's last step trains and the epoch validates, so an epoch does not
/// start by waiting for its first batch and prefix (the batch carried over is disposed with the runner).
/// </summary>
internal sealed class EpochRunner(TrainingSession session, BatchPipeline pipeline, FeatureCache? cache, ImageDataset data, int batchSize, bool nhwc) : IDisposable
{
    private IEnumerator<ImageBatch>? batches;
    private PrefixedBatch? carried;
    private int nextEpoch;

    /// <summary>
    /// Trains epoch <paramref name="epoch"/> on <paramref name="orderOf"/>(epoch); epochs come in order, up to
    /// <paramref name="lastEpoch"/> (the epochs the pipeline may read ahead into). <paramref name="nextRate"/> gives each
    /// step's learning rate and <paramref name="stepDone"/> hears of every step with the epoch's totals so far.
    /// </summary>
    public async Task<EpochTotals> RunAsync(int epoch, Func<int, int[]> orderOf, int lastEpoch, Func<float> nextRate, CancellationToken cancellationToken, Action<StepResult, EpochTotals>? stepDone = null)
    {
        var totals = new EpochTotals(stepDone);
        if (cache is { Count: > 0 })
        {
            TrainOnCache(orderOf(epoch), totals, nextRate, cancellationToken);
        }
        else
        {
            if (batches is null || epoch != nextEpoch)
            {
                CloseBatches();

                // Filling the feature cache is one epoch's work: later epochs read the cache, not the pipeline.
                var last = cache is null ? lastEpoch : epoch;
                var epochs = Enumerable.Range(epoch, Math.Max(1, last - epoch + 1)).Select(e => ((IReadOnlyList<int>)orderOf(e), e)).ToArray();
                batches = pipeline.Batches(epochs, cancellationToken).GetEnumerator();
            }

            nextEpoch = epoch + 1;
            await TrainOnBatchesAsync(epoch, totals, nextRate, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The epoch's batches: each batch's prefix starts (on its own thread) before the previous batch's step, and the
    /// next epoch's first batch, once it arrives, is carried over with its prefix running.
    /// </summary>
    private async Task TrainOnBatchesAsync(int epoch, EpochTotals totals, Func<float> nextRate, CancellationToken cancellationToken)
    {
        if (carried is { } early && early.Batch.Epoch != epoch)
        {
            // Every sample of this epoch was unreadable: the batch carried belongs to a later epoch.
            return;
        }

        var pending = carried;
        carried = null;
        PrefixedBatch? arrived = null;
        try
        {
            while (true)
            {
                var asked = Stopwatch.GetTimestamp();
                if (!batches!.MoveNext())
                {
                    CloseBatches();
                    break;
                }

                totals.Waited(Stopwatch.GetElapsedTime(asked));
                arrived = StartPrefix(batches.Current, cancellationToken);
                if (pending is not null)
                {
                    var previous = pending;
                    pending = null;
                    await StepAsync(previous, totals, nextRate, cancellationToken).ConfigureAwait(false);
                }

                if (arrived.Batch.Epoch != epoch)
                {
                    carried = arrived;
                    arrived = null;
                    return;
                }

                var current = arrived;
                arrived = null;
                if (session.HasPrefix)
                {
                    pending = current;
                }
                else
                {
                    await StepAsync(current, totals, nextRate, cancellationToken).ConfigureAwait(false);
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
            await PrefixedBatch.AbandonAsync(pending, arrived).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A batch with its prefix started (none without a prefix) on its own (LongRunning) thread, as the pipeline's workers
    /// are: the step blocks this thread, and on the thread pool the three would wait for the pool to grow. Neither
    /// session's threads spin, so prefix and step share the cores; the steps stay in order, so results are unchanged.
    /// </summary>
    private PrefixedBatch StartPrefix(ImageBatch batch, CancellationToken cancellationToken)
    {
        var x = InputTensor(batch, pipeline.OutputSize, nhwc);
        return new PrefixedBatch(batch, x, session.HasPrefix
            ? Task.Factory.StartNew(() => session.Features(x, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : null);
    }

    private async Task StepAsync(PrefixedBatch item, EpochTotals totals, Func<float> nextRate, CancellationToken cancellationToken)
    {
        using (item.Batch)
        using (item.X)
        using (var y = LabelTensor(item.Batch))
        {
            if (item.Features is null)
            {
                Account(session.Step(item.X, y, nextRate(), cancellationToken), totals, item.Batch.Labels.AsSpan(0, item.Batch.Count));
                return;
            }

            using var features = await item.Features.ConfigureAwait(false);
            cache?.AddBatch(item.Batch.Indices.AsSpan(0, item.Batch.Count), features);
            Account(session.StepOnFeatures(features, y, nextRate(), cancellationToken), totals, item.Batch.Labels.AsSpan(0, item.Batch.Count));
        }
    }

    private void CloseBatches()
    {
        batches?.Dispose();
        batches = null;
    }

    /// <summary>Stops the pipeline and drops the batch carried into an epoch that did not come (early stopping, a failure).</summary>
    public void Dispose() => Stop();

    /// <summary>As <see cref="Dispose"/>; the stage calls it when its epochs are over, so nothing decodes during its export.</summary>
    public void Stop()
    {
        if (carried is not null)
        {
            carried.AbandonAsync().GetAwaiter().GetResult();
            carried = null;
        }

        CloseBatches();
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

    /// <summary>A decoded batch whose prefix output is being computed (no task without a prefix).</summary>
    private sealed record PrefixedBatch(ImageBatch Batch, Tensor<float> X, Task<Tensor<float>>? Features)
    {
        public async Task AbandonAsync()
        {
            try
            {
                if (Features is not null)
                {
                    (await Features.ConfigureAwait(false)).Dispose();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or OnnxRuntimeException)
            {
                // The step that failed is what the caller sees.
            }

            X.Dispose();
            Batch.Dispose();
        }

        /// <summary>Abandons the batches of a loop that failed (nulls skipped).</summary>
        public static async Task AbandonAsync(params PrefixedBatch?[] items)
        {
            foreach (var item in items)
            {
                if (item is not null)
                {
                    await item.AbandonAsync().ConfigureAwait(false);
                }
            }
        }
    }
}

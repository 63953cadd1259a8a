using System.Runtime.ExceptionServices;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>What a <see cref="BatchPrefetch{TBatch}"/> fills: batches of samples, each sample prepared on its own.</summary>
internal interface IBatchSource<TBatch>
    where TBatch : class, IDisposable
{
    /// <summary>Batches in all.</summary>
    int BatchCount { get; }

    /// <summary>Samples in batch <paramref name="batch"/> (at least 1).</summary>
    int SamplesIn(int batch);

    /// <summary>An empty batch (pooled buffers); cheap, called under the queue's lock.</summary>
    TBatch Create(int batch);

    /// <summary>Prepares one sample into its place in <paramref name="target"/>; samples of one batch run on several threads at once.</summary>
    void Fill(TBatch target, int batch, int sample);

    /// <summary>After the batch's last sample: the batch to hand out (e.g. with skipped samples' holes closed), or null to hand out nothing (the source disposes it).</summary>
    TBatch? Complete(TBatch target, int batch);
}

/// <summary>
/// Fills batches on dedicated worker threads and hands them out in order, at most <c>depth</c> batches ahead of the
/// one the consumer holds. The workers are not thread-pool threads: the consumer's inference or training step (and the frozen prefix
/// running beside it) block pool threads for hundreds of milliseconds, and a pipeline on the pool then waits for the pool
/// to grow. Workers take the next sample in order, so every worker helps finish the oldest batch first; a sample's content
/// depends only on its batch and position, never on which worker made it. Batches' Dispose must be idempotent.
/// A failing sample fails its batch, which surfaces when the consumer reaches that batch (the first failing sample by
/// position, whatever the timing); disposing stops the workers and disposes every batch not handed out.
/// </summary>
internal sealed class BatchPrefetch<TBatch> : IDisposable
    where TBatch : class, IDisposable
{
    private readonly IBatchSource<TBatch> source;
    private readonly Slot[] slots;

    // Monitor, not System.Threading.Lock: workers and a blocked consumer wait on it as a condition.
    private readonly object gate = new();
    private readonly CancellationTokenRegistration cancellation;
    private readonly CancellationToken callerToken;
    private int next;
    private int claimBatch;
    private int claimSample;
    private int running;
    private bool stopped;
    private readonly int maxWorkers;
    private int started;
    private int grewFor = -1;
    private Exception? workerFailure;
    private TaskCompletionSource? waiter;

    /// <summary>
    /// Starts <paramref name="startWorkers"/> workers (default: <paramref name="workers"/>); each time the consumer has to
    /// wait for a batch after the first, one more starts, up to <paramref name="workers"/>. A consumer that runs a model
    /// on the same cores so gets as few decoding threads beside it as keep it fed.
    /// </summary>
    public BatchPrefetch(IBatchSource<TBatch> source, int workers, int depth, CancellationToken cancellationToken, int startWorkers = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(startWorkers);
        this.source = source;
        callerToken = cancellationToken;
        slots = new Slot[Math.Max(1, Math.Min(depth, source.BatchCount))];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = new Slot();
        }

        maxWorkers = Math.Min(workers, Math.Max(1, SampleTotal()));
        cancellation = cancellationToken.Register(Stop);
        lock (gate)
        {
            for (var w = Math.Min(startWorkers == 0 ? workers : startWorkers, maxWorkers); w > 0; w--)
            {
                StartWorkerLocked();
            }
        }
    }

    /// <summary>Worker threads started so far.</summary>
    public int Workers
    {
        get
        {
            lock (gate)
            {
                return started;
            }
        }
    }

    private void StartWorkerLocked()
    {
        started++;
        running++;
        new Thread(Work) { IsBackground = true, Name = "onnxcnn batch worker" }.Start();
    }

    /// <summary>The next batch in order (waiting for it on this thread), or null after the last.</summary>
    /// <exception cref="OperationCanceledException">The caller's token was cancelled.</exception>
    public TBatch? Take()
    {
        lock (gate)
        {
            while (true)
            {
                if (TryTakeLocked(out var batch, out var done))
                {
                    if (batch is not null || done)
                    {
                        return batch;
                    }

                    continue;
                }

                Monitor.Wait(gate);
            }
        }
    }

    /// <summary>As <see cref="Take"/>, waiting without blocking a thread.</summary>
    public async ValueTask<TBatch?> TakeAsync()
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (TryTakeLocked(out var batch, out var done))
                {
                    if (batch is not null || done)
                    {
                        return batch;
                    }

                    continue;
                }

                waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = waiter.Task;
            }

            await wait.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes batch <see cref="next"/> if it is finished: true with the batch (null when it came out empty: take again),
    /// or true and <paramref name="done"/> after the last batch; false when it is still being made.
    /// </summary>
    private bool TryTakeLocked(out TBatch? batch, out bool done)
    {
        batch = null;
        done = false;
        callerToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(stopped, this);
        if (next >= source.BatchCount)
        {
            done = true;
            return true;
        }

        var slot = slots[next % slots.Length];
        if (!slot.Ready || slot.Batch != next)
        {
            // Every worker gone with this batch unfinished: one of them failed outside a sample (e.g. renting a buffer).
            if (running == 0)
            {
                throw new InvalidOperationException("the batch workers stopped before the batch was made.", workerFailure);
            }

            // The consumer waits on the workers (not just on the first batch): they are too few.
            if (next > 0 && next != grewFor && started < maxWorkers && claimBatch < source.BatchCount)
            {
                grewFor = next;
                StartWorkerLocked();
            }

            return false;
        }

        var error = slot.Error;
        batch = slot.Result;
        slot.Clear();
        next++;
        Monitor.PulseAll(gate);
        error?.Throw();
        return true;
    }

    private int SampleTotal()
    {
        var total = 0;
        for (var b = 0; b < source.BatchCount && total < int.MaxValue / 2; b++)
        {
            total += source.SamplesIn(b);
        }

        return total;
    }

    private void Work()
    {
        try
        {
            while (Claim() is var (batch, sample, slot, target))
            {
                Exception? failure = null;
                try
                {
                    source.Fill(target, batch, sample);
                }
                catch (Exception e)
                {
                    failure = e;
                }

                Finish(batch, sample, slot, target, failure);
            }
        }
        catch (Exception e)
        {
            lock (gate)
            {
                workerFailure ??= e;
            }
        }
        finally
        {
            lock (gate)
            {
                running--;
                Monitor.PulseAll(gate);
            }
        }
    }

    /// <summary>The next sample to prepare, in order, once its batch fits in the window; null when there is none or the queue stopped.</summary>
    private (int Batch, int Sample, Slot Slot, TBatch Target)? Claim()
    {
        lock (gate)
        {
            while (!stopped && claimBatch < source.BatchCount && claimBatch >= next + slots.Length)
            {
                Monitor.Wait(gate);
            }

            if (stopped || claimBatch >= source.BatchCount)
            {
                return null;
            }

            var batch = claimBatch;
            var slot = slots[batch % slots.Length];
            var sample = claimSample++;
            if (sample == 0)
            {
                slot.Start(batch, source.SamplesIn(batch), source.Create(batch));
            }

            if (claimSample == slot.Samples)
            {
                claimBatch++;
                claimSample = 0;
            }

            return (batch, sample, slot, slot.Target!);
        }
    }

    private void Finish(int batch, int sample, Slot slot, TBatch target, Exception? failure)
    {
        lock (gate)
        {
            if (failure is not null && (slot.FailedSample < 0 || sample < slot.FailedSample))
            {
                slot.FailedSample = sample;
                slot.Failure = failure;
            }

            if (--slot.Pending > 0)
            {
                return;
            }
        }

        // The batch's last sample: complete it outside the lock, then publish it. Complete disposes a batch it turns
        // into nothing; a failed batch is disposed here (batches' Dispose is idempotent).
        TBatch? result = null;
        var error = slot.Failure;
        if (error is null && !Volatile.Read(ref stopped))
        {
            try
            {
                result = source.Complete(target, batch);
            }
            catch (Exception e)
            {
                error = e;
            }
        }

        if (error is not null || result is null)
        {
            // Failed, stopped, or turned into nothing (then Complete disposed it already).
            target.Dispose();
        }

        lock (gate)
        {
            if (stopped)
            {
                result?.Dispose();
                return;
            }

            slot.Publish(result, error is null ? null : ExceptionDispatchInfo.Capture(error));
            Monitor.PulseAll(gate);
            var w = waiter;
            waiter = null;
            w?.TrySetResult();
        }
    }

    private void Stop()
    {
        TaskCompletionSource? w;
        lock (gate)
        {
            if (stopped)
            {
                return;
            }

            stopped = true;
            if (claimBatch < source.BatchCount && claimSample > 0)
            {
                // The samples of the batch being claimed that no worker took will never come.
                slots[claimBatch % slots.Length].Pending -= slots[claimBatch % slots.Length].Samples - claimSample;
            }

            foreach (var slot in slots)
            {
                // Finished batches nobody will take, and batches no worker is still filling; the others are
                // disposed by their last worker.
                if (slot.Ready)
                {
                    slot.Result?.Dispose();
                    slot.Clear();
                }
                else if (slot.Target is { } target && slot.Pending == 0)
                {
                    target.Dispose();
                    slot.Clear();
                }
            }

            Monitor.PulseAll(gate);
            w = waiter;
            waiter = null;
        }

        w?.TrySetResult();
    }

    /// <summary>Stops the workers (a sample being prepared finishes first, on its worker) and disposes the batches not taken.</summary>
    public void Dispose()
    {
        Stop();
        cancellation.Dispose();
    }

    /// <summary>One place of the window: the batch being filled or ready to hand out.</summary>
    private sealed class Slot
    {
        public int Batch { get; private set; } = -1;

        public int Samples { get; private set; }

        public int Pending { get; set; }

        public TBatch? Target { get; private set; }

        public bool Ready { get; private set; }

        public TBatch? Result { get; private set; }

        public ExceptionDispatchInfo? Error { get; private set; }

        public int FailedSample { get; set; } = -1;

        public Exception? Failure { get; set; }

        public void Start(int batch, int samples, TBatch target)
        {
            Batch = batch;
            Samples = samples;
            Pending = samples;
            Target = target;
            Ready = false;
            FailedSample = -1;
            Failure = null;
        }

        public void Publish(TBatch? result, ExceptionDispatchInfo? error)
        {
            Result = result;
            Error = error;
            Ready = true;
        }

        public void Clear()
        {
            Batch = -1;
            Target = null;
            Result = null;
            Error = null;
            Ready = false;
            Failure = null;
            FailedSample = -1;
        }
    }
}

using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>The prefetching workers behind the batch pipeline and the classifier: order, bounds, failures, cancellation, cleanup.</summary>
public class BatchPrefetchTests
{
    /// <summary>A batch of sample numbers; counts how many batches are alive.</summary>
    private sealed class Numbers(int batch, int count, FakeSource owner) : IDisposable
    {
        private int disposed;

        public int Batch { get; } = batch;

        public int[] Values { get; } = new int[count];

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner.Alive);
            }
        }
    }

    private sealed class FakeSource(int batches, int batchSize, int seed) : IBatchSource<Numbers>
    {
        private readonly Lock gate = new();
        private readonly Random random = new(seed);
        public int Alive;
        public int MaxAlive;
        public Func<int, int, bool> Fails { get; init; } = (_, _) => false;

        /// <summary>Batches whose samples all come out empty (handed out as nothing).</summary>
        public Func<int, bool> Empty { get; init; } = _ => false;

        public int BatchCount => batches;

        public int SamplesIn(int batch) => batchSize;

        public Numbers Create(int batch)
        {
            var alive = Interlocked.Increment(ref Alive);
            lock (gate)
            {
                MaxAlive = Math.Max(MaxAlive, alive);
            }

            return new Numbers(batch, batchSize, this);
        }

        public void Fill(Numbers target, int batch, int sample)
        {
            int delay;
            lock (gate)
            {
                delay = random.Next(0, 3);
            }

            // Uneven sample times, so workers finish out of order.
            Thread.Sleep(delay);
            if (Fails(batch, sample))
            {
                throw new InvalidDataException($"sample {batch}.{sample} is corrupt");
            }

            target.Values[sample] = (batch * batchSize) + sample;
        }

        public Numbers? Complete(Numbers target, int batch)
        {
            if (Empty(batch))
            {
                target.Dispose();
                return null;
            }

            return target;
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 5)]
    public void Take_UnevenWorkers_BatchesInOrderWithEverySample(int workers, int depth)
    {
        var source = new FakeSource(9, 4, seed: 7);
        using var prefetch = new BatchPrefetch<Numbers>(source, workers, depth, default);
        var seen = new List<int>();
        while (prefetch.Take() is { } batch)
        {
            using (batch)
            {
                seen.AddRange(batch.Values);
            }
        }

        Assert.Equal(Enumerable.Range(0, 36), seen);
        Assert.Equal(0, source.Alive);
        // The window, plus the batch the consumer holds.
        Assert.InRange(source.MaxAlive, 1, depth + 1);
    }

    [Fact]
    public void Take_ConsumerWaitsOnOneWorker_MoreStartUpToTheLimit_SameBatches()
    {
        // Samples take 0–2 ms and the consumer takes none: it catches up with one worker and waits, so more start.
        var source = new FakeSource(12, 4, seed: 2);
        using var prefetch = new BatchPrefetch<Numbers>(source, workers: 3, depth: 2, default, startWorkers: 1);
        Assert.Equal(1, prefetch.Workers);
        var seen = new List<int>();
        while (prefetch.Take() is { } batch)
        {
            using (batch)
            {
                seen.AddRange(batch.Values);
            }
        }

        Assert.Equal(Enumerable.Range(0, 48), seen);
        Assert.InRange(prefetch.Workers, 2, 3);
    }

    [Fact]
    public async Task TakeAsync_EmptyBatchesAreSkipped_InOrder()
    {
        var source = new FakeSource(6, 2, seed: 1) { Empty = b => b is 0 or 3 };
        using var prefetch = new BatchPrefetch<Numbers>(source, 2, 2, default);
        var batches = new List<int>();
        while (await prefetch.TakeAsync() is { } batch)
        {
            using (batch)
            {
                batches.Add(batch.Batch);
            }
        }

        Assert.Equal([1, 2, 4, 5], batches);
        Assert.Equal(0, source.Alive);
    }

    [Fact]
    public void Take_FailingSampleInTheMiddle_EarlierBatchesFirstThenTheFirstFailureByPosition()
    {
        // Batch 2 has two bad samples; whichever worker meets one first, the error names sample 1.
        var source = new FakeSource(5, 4, seed: 3) { Fails = (b, s) => b == 2 && s is 1 or 3 };
        var prefetch = new BatchPrefetch<Numbers>(source, 3, 2, default);
        var taken = new List<int>();
        var e = Assert.Throws<InvalidDataException>(() =>
        {
            while (prefetch.Take() is { } batch)
            {
                using (batch)
                {
                    taken.Add(batch.Batch);
                }
            }
        });
        Assert.Equal("sample 2.1 is corrupt", e.Message);
        Assert.Equal([0, 1], taken);
        prefetch.Dispose();
        SpinWait.SpinUntil(() => Volatile.Read(ref source.Alive) == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, source.Alive);
    }

    [Fact]
    public void Take_CancelledWhileWaiting_ThrowsAndLeavesNoBatchAlive()
    {
        using var cts = new CancellationTokenSource();
        var source = new FakeSource(50, 8, seed: 5);
        var prefetch = new BatchPrefetch<Numbers>(source, 2, 3, cts.Token);
        using (prefetch.Take())
        {
            cts.Cancel();
        }

        Assert.Throws<OperationCanceledException>(() => prefetch.Take());
        prefetch.Dispose();
        SpinWait.SpinUntil(() => Volatile.Read(ref source.Alive) == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, source.Alive);
    }

    [Fact]
    public void Dispose_ConsumerStopsEarly_UntakenBatchesAreDisposed()
    {
        var source = new FakeSource(20, 3, seed: 9);
        var prefetch = new BatchPrefetch<Numbers>(source, 2, 4, default);
        prefetch.Take()!.Dispose();
        Thread.Sleep(20);
        prefetch.Dispose();
        SpinWait.SpinUntil(() => Volatile.Read(ref source.Alive) == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, source.Alive);
        Assert.Throws<ObjectDisposedException>(() => prefetch.Take());
    }
}

using System.Diagnostics;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

public class ConcurrencyTests
{
    [Fact]
    public void Run_EightThreadsOnOneSession_BitwiseEqualToSequential()
    {
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        const int threads = 8, runs = 50;
        var inputs = Enumerable.Range(0, threads).Select(i => SessionTests.RandomImage(2, seed: 100 + i)).ToArray();
        try
        {
            var expected = inputs.Select(x =>
            {
                using var r = session.Run(x);
                return r.First<float>().ToArray();
            }).ToArray();
            var mismatches = 0;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                for (var i = 0; i < runs; i++)
                {
                    using var r = session.Run(inputs[t]);
                    if (!r.First<float>().Span.SequenceEqual(expected[t]))
                    {
                        Interlocked.Increment(ref mismatches);
                    }
                }
            });
            Assert.Equal(0, mismatches);
        }
        finally
        {
            foreach (var x in inputs)
            {
                x.Dispose();
            }
        }
    }

    [Fact]
    public void Run_CancelledWhileRunning_ThrowsOperationCanceledQuickly()
    {
        using var session = InferenceSession.FromBytes(Models.SlowChain(), new SessionOptions { IntraOpThreads = 1 });
        using var x = Tensor<float>.Filled(1f, 384, 384);
        // Time one full run without cancellation for scale.
        var full = Stopwatch.StartNew();
        session.Run(x).Dispose();
        full.Stop();

        using var cts = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();
        var run = Task.Run(() => session.Run(x, cts.Token).Dispose());
        Thread.Sleep((int)Math.Max(5, full.ElapsedMilliseconds / 10));
        cts.Cancel(); // runs the registration synchronously: ORT's terminate flag is set now
        var e = Record.Exception(() => run.GetAwaiter().GetResult());
        watch.Stop();
        Assert.True(e is OperationCanceledException, $"expected cancellation, got {e?.GetType().Name ?? "no exception"} after {watch.ElapsedMilliseconds} ms (full run {full.ElapsedMilliseconds} ms)");
        Assert.True(watch.ElapsedMilliseconds < full.ElapsedMilliseconds * 0.7,
            $"cancelled run took {watch.ElapsedMilliseconds} ms; a full run takes {full.ElapsedMilliseconds} ms");

        // The session is still usable afterwards.
        using var again = session.Run(x, CancellationToken.None);
        Assert.Equal([384L, 384], again.First<float>().Shape);
    }

    [Fact]
    public void Run_AlreadyCancelled_ThrowsBeforeRunning()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var x = Tensor<float>.Create(1, 3);
        Assert.ThrowsAny<OperationCanceledException>(() => session.Run(x, new CancellationToken(canceled: true)));
    }
}

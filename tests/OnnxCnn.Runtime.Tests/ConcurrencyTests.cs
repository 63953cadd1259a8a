using OnnxCnn.Graphs.Proto;
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
    public void Run_CancelledWhileRunning_EndsAnEndlessRunWithOperationCanceled()
    {
        // The model loops (practically) forever, so the run can only end through cancellation: the
        // outcome does not depend on how fast this machine is or when the cancel lands.
        using var session = InferenceSession.FromBytes(EndlessLoop(), new SessionOptions { IntraOpThreads = 1 });
        using var x = Tensor<float>.Filled(1f, 64, 64);
        using var cts = new CancellationTokenSource();
        using var entered = new ManualResetEventSlim();
        var run = Task.Run(() =>
        {
            entered.Set();
            session.Run(x, cts.Token).Dispose();
        });
        entered.Wait();
        Thread.Sleep(50); // lets the run reach ORT's executor; cancelling earlier must end it just the same
        cts.Cancel(); // runs the registration synchronously: ORT's terminate flag is set now

        // A hang guard, not a speed bound: a run that ignores cancellation never ends at all.
        Assert.True(SpinWait.SpinUntil(() => run.IsCompleted, TimeSpan.FromMinutes(5)), "a cancelled run of an endless model had not ended after 5 minutes");
        var e = Record.Exception(() => run.GetAwaiter().GetResult());
        Assert.True(e is OperationCanceledException, $"expected cancellation, got {e?.ToString() ?? "no exception"}");

        // The session is still usable afterwards (this run, too, ends only through cancellation).
        using var again = new CancellationTokenSource();
        var second = Task.Run(() => session.Run(x, again.Token).Dispose());
        again.Cancel();
        Assert.True(SpinWait.SpinUntil(() => second.IsCompleted, TimeSpan.FromMinutes(5)), "the second cancelled run had not ended after 5 minutes");
        Assert.ThrowsAny<OperationCanceledException>(() => second.GetAwaiter().GetResult());
    }

    [Fact]
    public void Run_AfterACancelledRun_GivesTheSameResultAsBefore()
    {
        using var session = InferenceSession.FromBytes(Models.SlowChain(length: 4, size: 32), new SessionOptions { IntraOpThreads = 1 });
        using var x = Tensor<float>.Filled(1f, 32, 32);
        float[] before;
        using (var r = session.Run(x))
        {
            before = r.First<float>().ToArray();
        }

        Assert.ThrowsAny<OperationCanceledException>(() => session.Run(x, new CancellationToken(canceled: true)));
        using var after = session.Run(x, CancellationToken.None);
        Assert.Equal(before, after.First<float>().ToArray());
    }

    /// <summary>
    /// X [64,64] → Loop (trip count long.MaxValue, condition always true) of X·W → Y: a run that
    /// does not finish by itself.
    /// </summary>
    private static byte[] EndlessLoop()
    {
        var body = new ModelBuilder(name: "body")
            .Input("i", TensorProto.Types.DataType.Int64)
            .Input("cond_in", TensorProto.Types.DataType.Bool)
            .Input("x_in", TensorProto.Types.DataType.Float, 64, 64)
            .Node("Identity", ["cond_in"], ["cond_out"])
            .Node("MatMul", ["x_in", "W"], ["x_out"])
            .Output("cond_out", TensorProto.Types.DataType.Bool)
            .Output("x_out", TensorProto.Types.DataType.Float, 64, 64)
            .Graph;
        foreach (var scalar in new[] { body.Input[0], body.Input[1], body.Output[0] })
        {
            scalar.Type.TensorType.Shape = new TensorShapeProto(); // rank 0, as Loop requires
        }

        var weight = Enumerable.Range(0, 64 * 64).Select(i => i % 65 == 0 ? 1f : 0f).ToArray(); // identity: values stay finite
        var outer = new ModelBuilder()
            .Input("X", TensorProto.Types.DataType.Float, 64, 64)
            .Initializer("W", weight, 64, 64)
            .Initializer("M", [long.MaxValue])
            .Node("Loop", ["M", "cond", "X"], ["Y"], new AttributeProto { Name = "body", Type = AttributeProto.Types.AttributeType.Graph, G = body })
            .Output("Y", TensorProto.Types.DataType.Float, 64, 64);
        var cond = new TensorProto { Name = "cond", DataType = (int)TensorProto.Types.DataType.Bool };
        cond.Int32Data.Add(1);
        outer.Graph.Initializer.Add(cond);
        return outer.ToBytes();
    }

    [Fact]
    public void Run_AlreadyCancelled_ThrowsBeforeRunning()
    {
        using var session = InferenceSession.FromBytes(Models.AddSelf());
        using var x = Tensor<float>.Create(1, 3);
        Assert.ThrowsAny<OperationCanceledException>(() => session.Run(x, new CancellationToken(canceled: true)));
    }
}

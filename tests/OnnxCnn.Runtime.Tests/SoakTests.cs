using System.Globalization;
using OnnxCnn.TestUtilities;
using Xunit.Abstractions;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// Soak and leak checks on a small CNN: 8 threads × 10,000 classifications through one session,
/// 1,000 sessions opened, run and disposed, 100,000 runs on one session (about 30 s together on
/// 2 cores). ONNXCNN_SOAK_RUNS sets a longer run count for a longer soak by hand.
/// </summary>
/// <remarks>
/// Memory is judged by trend, not by an absolute size: resident memory (and open file
/// descriptors) after a full garbage collection at the end of the first quarter of the work is
/// compared with the same at the end. The bounds are measured (see each test) with room for
/// allocator noise; a per-cycle or per-run leak of a few kilobytes or a few hundred bytes
/// respectively crosses them.
/// </remarks>
[Collection(SoakCollection.Name)]
public class SoakTests(ITestOutputHelper output)
{
    [Fact]
    public void Run_EightThreadsSharingOneSession_EveryResultBitwiseEqualToSequential()
    {
        const int threads = 8, inputs = 32;
        const int perThread = 10_000;
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        var images = Enumerable.Range(0, inputs).Select(i => SessionTests.RandomImage(1, seed: 1000 + i)).ToArray();
        try
        {
            var expected = images.Select(x =>
            {
                using var r = session.Run(x);
                return r.First<float>().ToArray();
            }).ToArray();
            var mismatches = 0L;
            var done = 0L;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                for (var i = 0; i < perThread; i++)
                {
                    var k = ((t * 7) + i) % inputs;
                    using var r = session.Run(images[k]);
                    if (!r.First<float>().Span.SequenceEqual(expected[k]))
                    {
                        Interlocked.Increment(ref mismatches);
                    }

                    Interlocked.Increment(ref done);
                }
            });
            output.WriteLine($"{done} classifications on {threads} threads, {mismatches} differ from the sequential result");
            Assert.Equal(threads * (long)perThread, done);
            Assert.Equal(0, mismatches);
        }
        finally
        {
            foreach (var x in images)
            {
                x.Dispose();
            }
        }
    }

    [Fact]
    public void Session_OpenedRunAndDisposedManyTimes_ResidentMemoryAndDescriptorsDoNotGrow()
    {
        const int cycles = 1_000;
        var model = Models.SmallCnn();
        using var x = SessionTests.RandomImage(1);
        var trend = new MemoryTrend(output, "session cycles");
        for (var i = 1; i <= cycles; i++)
        {
            using (var session = InferenceSession.FromBytes(model))
            using (var r = session.Run(x))
            {
                Assert.Equal(5, r.First<float>().Span.Length);
            }

            trend.At(i, cycles);
        }

        // Measured (2 shared cores, AMD EPYC): RSS 144.0 MB after 250 cycles, 144.4 MB
        // after 1,000 (+0.4 MB); descriptors 169 throughout. The bound, 24 MB over 750 cycles, is
        // crossed by a leak of 32 KB per cycle — less than one leaked session with its ORT state.
        trend.AssertFlat(maxGrowthBytes: 24L << 20, maxExtraDescriptors: 2);
    }

    [Fact]
    public void Run_ManyTimesOnOneSession_ResidentMemoryAndDescriptorsDoNotGrow()
    {
        var runs = int.TryParse(Environment.GetEnvironmentVariable("ONNXCNN_SOAK_RUNS"), CultureInfo.InvariantCulture, out var n) ? n : 100_000;
        using var session = InferenceSession.FromBytes(Models.SmallCnn());
        using var x = SessionTests.RandomImage(1);
        var trend = new MemoryTrend(output, "runs");
        for (var i = 1; i <= runs; i++)
        {
            using (var r = session.Run(x))
            {
                _ = r.First<float>().Span[0];
            }

            trend.At(i, runs);
        }

        // Measured (same machine): RSS 133.3 MB after 25,000 runs, 138.3 MB after 100,000 (+5.0 MB,
        // the allocator still warming up); a 400,000-run soak levelled off at 139.7–140.1 MB from
        // 150,000 runs on (+0.6 MB over the last 300,000). Descriptors 165 throughout. The bound,
        // 16 MB over 75,000 runs, is crossed by a leak of 224 bytes per run (an unreleased OrtValue).
        trend.AssertFlat(maxGrowthBytes: 16L << 20, maxExtraDescriptors: 2);
    }

    /// <summary>Resident memory and open descriptors at the end of the first quarter and at the end, after full collections.</summary>
    private sealed class MemoryTrend(ITestOutputHelper output, string what)
    {
        private (long Rss, int Fds)? quarter;
        private (long Rss, int Fds)? end;

        public void At(int i, int total)
        {
            if (i % (total / 8) != 0)
            {
                return;
            }

            var m = Measure();
            output.WriteLine($"after {i} {what}: RSS {m.Rss / 1048576.0:F1} MB, {m.Fds} descriptors");
            if (i == total / 4)
            {
                quarter = m;
            }
            else if (i == total)
            {
                end = m;
            }
        }

        public void AssertFlat(long maxGrowthBytes, int maxExtraDescriptors)
        {
            Assert.NotNull(quarter);
            Assert.NotNull(end);
            var growth = end.Value.Rss - quarter.Value.Rss;
            output.WriteLine($"growth {growth / 1048576.0:F1} MB (bound {maxGrowthBytes / 1048576.0:F0} MB), descriptors {end.Value.Fds - quarter.Value.Fds:+0;-0;0}");
            Assert.True(growth <= maxGrowthBytes, $"resident memory grew {growth / 1048576.0:F1} MB from the first quarter of the {what} to the end (bound {maxGrowthBytes / 1048576.0:F0} MB)");
            Assert.True(end.Value.Fds <= quarter.Value.Fds + maxExtraDescriptors, $"open descriptors went from {quarter.Value.Fds} to {end.Value.Fds} over the {what}");
        }

        private static (long Rss, int Fds) Measure()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            // /proc/self/statm: size resident shared … in pages.
            var resident = long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            return (resident, Directory.GetFileSystemEntries("/proc/self/fd").Length);
        }
    }
}

/// <summary>
/// Soak and leak tests run alone: other test classes running beside them would open descriptors
/// and allocate in the same process, and their numbers would not be this test's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "Soak (runs alone)";
}

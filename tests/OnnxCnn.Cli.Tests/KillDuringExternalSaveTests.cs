using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

/// <summary>
/// A model saved with external data, SIGKILLed at seeded moments of its save: the model under the
/// final name always loads with the data it was written with — the previous version or the new
/// one, never new weights under old metadata or a torn pair.
/// </summary>
public class KillDuringExternalSaveTests
{
    private const int Seed = 20261201;

    [Fact]
    public void GraphEdit_KilledDuringExternalDataSaves_LeavesAConsistentModel_AndTheNextSaveCleansUp()
    {
        using var dir = new TempDir();
        var source = WideMlp(dir.File("mlp.onnx"));
        var output = dir.File("out.onnx");
        var temps = new[] { output + ".tmp", output + ".data.tmp" };
        string[] Args(int seed) => ["graph", "reinit", source, "--seed", seed.ToString(CultureInfo.InvariantCulture), "--external-data", "--overwrite", "-o", output];
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        void Expect(int seed) => expected[Weights(Reinitializer.Reinitialize(OnnxModel.Load(source), seed).Model)] = seed;

        // Calibration: time one whole save (from the first temporary file to the last rename) without interrupting it.
        Assert.Equal(0, Cli.Run([.. Args(1)]).Code);
        Expect(1);
        var watch = new Stopwatch();
        var saveTime = TimeSpan.Zero;
        _ = ChildProcess.KillWhen(Args(2), () =>
        {
            if (temps.Any(File.Exists))
            {
                watch.Start();
                return false;
            }

            saveTime = watch.Elapsed;
            return watch.IsRunning;
        }, TimeSpan.Zero);
        Expect(2);
        Assert.True(saveTime > TimeSpan.Zero, "the calibration run never showed a temporary file");

        var random = new Random(Seed);
        var log = new List<string>();
        var committed = Committed(output, expected, log);
        var interrupted = 0;
        for (var kill = 0; kill < 10 && (kill < 6 || interrupted < 3); kill++)
        {
            var seed = 3 + kill;
            Expect(seed);
            var delay = random.NextDouble() * saveTime;
            var started = DateTime.UtcNow;
            var report = ChildProcess.KillWhen(Args(seed), () => temps.Any(t => File.Exists(t) && File.GetLastWriteTimeUtc(t) >= started), delay);
            log.Add($"kill {kill}: seed {seed}, {delay.TotalMilliseconds:F1} ms into the save, {(report is null ? "finished first" : "killed")}");
            var now = Committed(output, expected, log);
            Assert.True(now == committed || now == seed, $"after a kill the model holds seed {now}'s weights, expected {committed} or {seed}; random seed {Seed}; {string.Join("; ", log)}");
            interrupted += report is not null && now == committed ? 1 : 0;
            committed = now;
        }

        Assert.True(interrupted >= 1, $"no kill landed inside a save ({saveTime.TotalMilliseconds:F0} ms each); random seed {Seed}; {string.Join("; ", log)}");

        // A complete save afterwards leaves exactly its own pair: no orphaned data, no temporary files.
        Assert.Equal(0, Cli.Run([.. Args(99)]).Code);
        Expect(99);
        Assert.Equal(99, Committed(output, expected, log));
        Assert.Single(Directory.GetFiles(dir.Path, "out.onnx.*.data"));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    /// <summary>The seed whose weights the model at <paramref name="path"/> holds (loading checks every external tensor's length).</summary>
    private static int Committed(string path, Dictionary<string, int> expected, List<string> log)
    {
        var weights = Weights(OnnxModel.Load(path));
        Assert.True(expected.TryGetValue(weights, out var seed), $"the model holds weights of no save; {string.Join("; ", log)}");
        return seed;
    }

    private static string Weights(OnnxModel model)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in model.Graph.Initializer.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            Assert.Equal(TensorProto.Types.DataLocation.Default, t.DataLocation);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(t.Name));
            hash.AppendData(t.RawData.Span);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Flatten → Gemm(3072→2048) → Relu → Gemm(2048→2): 25 MB of weights, so a save takes a while.</summary>
    private static string WideMlp(string path)
    {
        const int In = 3 * 32 * 32;
        const int Hidden = 2048;
        var zeros = (int n) => new float[n];
        return new ModelBuilder()
            .Input("image", TensorProto.Types.DataType.Float, "batch", 3, 32, 32)
            .Initializer("fc1.weight", zeros(Hidden * In), Hidden, In)
            .Initializer("fc1.bias", zeros(Hidden), Hidden)
            .Initializer("fc2.weight", zeros(2 * Hidden), 2, Hidden)
            .Initializer("fc2.bias", zeros(2), 2)
            .Node("Flatten", ["image"], ["flat"])
            .Node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], ModelBuilder.Int("transB", 1))
            .Node("Relu", ["h"], ["r"])
            .Node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["logits"], ModelBuilder.Int("transB", 1))
            .Output("logits", TensorProto.Types.DataType.Float, "batch", 2)
            .Save(path);
    }
}

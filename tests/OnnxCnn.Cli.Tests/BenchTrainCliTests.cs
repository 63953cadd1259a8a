using System.Text.Json;
using OnnxCnn.Cli.Internal;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Cli.Tests;

public class BenchTrainCliTests
{
    private static readonly string SmallCnn = RepoPaths.Fixture("training", "small_cnn", "model.onnx");

    [Fact]
    public void BenchTrain_SmallCnn_ReportsThroughput()
    {
        var (code, stdout, stderr) = Cli.Run("bench", "train", SmallCnn, "--classes", "4", "--trainable", "/conv2/*", "--batch", "4", "--steps", "2", "--rounds", "1", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("imagesPerSecond").GetDouble() > 0);
        Assert.Equal(4, doc.RootElement.GetProperty("parameters").GetInt32());
    }

    /// <summary>Every field of the efficiency report is there and consistent with the others (values, not timings, are checked).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BenchTrain_Json_EfficiencyFieldsConsistent(bool noOverlap)
    {
        string[] args = ["bench", "train", SmallCnn, "--classes", "4", "--trainable", "/conv2/*", "--batch", "8", "--steps", "2", "--rounds", "3", "--json"];
        var (code, stdout, stderr) = Cli.Run(noOverlap ? [.. args, "--no-overlap"] : args);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(!noOverlap, root.GetProperty("overlapped").GetBoolean());
        var rounds = root.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(3, rounds.Count);
        foreach (var round in rounds)
        {
            var step = round.GetProperty("stepMs").GetDouble();
            var full = round.GetProperty("fullForwardMs").GetDouble();
            var part = round.GetProperty("trainableForwardMs").GetDouble();
            Assert.True(step > 0 && full > 0 && part > 0, round.ToString());
            // The fields are rounded to 0.1 µs and 1e-4: compare relative to the value.
            var efficiency = round.GetProperty("efficiency").GetDouble();
            Assert.True(Math.Abs(((full + (2 * part)) / step) - efficiency) <= 0.03 * efficiency, round.ToString());
        }

        // The medians are medians of the rounds.
        double Median(string field) => rounds.Select(r => r.GetProperty(field).GetDouble()).Order().ElementAt(1);
        Assert.Equal(Median("stepMs"), root.GetProperty("stepMs").GetDouble(), 3);
        Assert.Equal(Median("fullForwardMs"), root.GetProperty("forwardMs").GetProperty("full").GetDouble(), 3);
        Assert.Equal(Median("trainableForwardMs"), root.GetProperty("forwardMs").GetProperty("trainable").GetDouble(), 3);
        Assert.Equal(Median("efficiency"), root.GetProperty("efficiency").GetDouble(), 4);
        var rate = 8 * 1000 / root.GetProperty("stepMs").GetDouble();
        Assert.True(Math.Abs(rate - root.GetProperty("imagesPerSecond").GetDouble()) <= 0.01 * rate, stdout);
        Assert.Equal(root.GetProperty("forwardMs").GetProperty("full").GetDouble() + (2 * root.GetProperty("forwardMs").GetProperty("trainable").GetDouble()),
            root.GetProperty("idealStepMs").GetDouble(), 2);

        Assert.Equal(Environment.ProcessorCount, root.GetProperty("intraOpThreads").GetInt32());
        var cpu = root.GetProperty("cpu");
        Assert.False(string.IsNullOrWhiteSpace(cpu.GetProperty("model").GetString()));
        Assert.Equal(Environment.ProcessorCount, cpu.GetProperty("logicalCores").GetInt32());
        Assert.Equal(JsonValueKind.Array, cpu.GetProperty("flags").ValueKind);
        var intrinsics = cpu.GetProperty("dotnetIntrinsics").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, intrinsics.Contains("Avx2"));
        Assert.Equal(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, intrinsics.Contains("Vector512"));
    }

    [Fact]
    public void BenchTrain_Text_NamesEfficiencyAndCpu()
    {
        var (code, stdout, stderr) = Cli.Run("bench", "train", SmallCnn, "--classes", "4", "--trainable", "/conv2/*", "--batch", "2", "--steps", "1", "--rounds", "1");
        Assert.True(code == 0, stderr);
        var lines = stdout.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Contains("images/s training", lines[0]);
        Assert.Matches(@"^step [0-9.]+ ms; inference forward [0-9.]+ ms whole model, [0-9.]+ ms trainable part; efficiency [0-9.]+ ", lines[1]);
        Assert.StartsWith("cpu: ", lines[2]);
        Assert.Contains("ONNX Runtime intra-op threads", lines[2]);
    }

    [Theory]
    [InlineData("--rounds", "0")]
    [InlineData("--steps", "0")]
    [InlineData("--batch", "-1")]
    public void BenchTrain_CountBelowOne_OneLineNamingTheOption_Exit2(string option, string value)
    {
        var (code, stdout, stderr) = Cli.Run("bench", "train", SmallCnn, "--classes", "4", "--trainable", "/conv2/*", option, value);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"error: {option} must be at least 1, got {value}.", stderr.Trim());
    }

    [Fact]
    public void CpuInfo_ProcCpuinfoText_ModelAndIsaFlags()
    {
        const string text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480C\n" +
            "flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni amx_bf16 amx_tile amx_int8\n\n" +
            "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n";
        var cpu = CpuInfo.Parse(text);
        Assert.Equal("Intel(R) Xeon(R) Platinum 8480C", cpu.Model);
        Assert.Equal(["sse4_2", "fma", "avx2", "avx512f", "avx512bw", "avx512_vnni", "amx_tile", "amx_bf16", "amx_int8"], cpu.Flags);
        Assert.Contains("amx_tile", cpu.Describe());
    }

    [Fact]
    public void CpuInfo_NoCpuinfo_ArchitectureAndNoFlags()
    {
        var cpu = CpuInfo.Parse("");
        Assert.False(string.IsNullOrWhiteSpace(cpu.Model));
        Assert.Empty(cpu.Flags);
        Assert.Contains("(no flags listed)", cpu.Describe());
    }
}

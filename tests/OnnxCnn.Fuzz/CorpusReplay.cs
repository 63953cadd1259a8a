namespace OnnxCnn.Fuzz;

/// <summary>
/// Replays a target's committed corpus (tests/fixtures/fuzz/TARGET/) for the test projects: every
/// input must be accepted or rejected within the target's contract, as under the fuzzer.
/// </summary>
public static class CorpusReplay
{
    /// <summary>The corpus file names of a target, sorted (one test case each).</summary>
    public static IEnumerable<object[]> Files(string target) =>
        Directory.GetFiles(FuzzTargets.CorpusFolder(target)).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(f => new object[] { f! });

    /// <summary>Runs one corpus input: null when it held to the contract, else what went wrong.</summary>
    public static string? Run(string target, string file)
    {
        var t = FuzzTargets.Get(target);
        var error = t.Check(File.ReadAllBytes(Path.Combine(FuzzTargets.CorpusFolder(target), file)));
        return error is null ? null : $"{target}/{file}: {error.GetType().Name} outside the contract ({string.Join(", ", t.Expected.Select(e => e.Name))}): {error}";
    }
}

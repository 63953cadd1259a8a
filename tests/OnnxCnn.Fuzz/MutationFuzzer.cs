using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace OnnxCnn.Fuzz;

/// <summary>What one fuzzing session did.</summary>
public sealed record FuzzReport(string Target, long Executions, int CorpusSize, long CorpusBytes, int Findings, double Seconds, int Seed);

/// <summary>
/// In-process, coverage-free fuzzing for a time budget: mutate corpus inputs (<see cref="Mutator"/>),
/// keep every input whose outcome (accepted, or the rejection's exception type and message shape)
/// has not been seen, shrink it while its outcome holds, and write each bug (an exception outside
/// the target's contract, an allocation over <see cref="AllocationLimit"/>, a run over
/// <see cref="SlowLimit"/>) to the findings folder with its input.
/// </summary>
public sealed partial class MutationFuzzer(FuzzTarget target, string corpusFolder, string findingsFolder, int seed)
{
    /// <summary>Managed bytes one input may make the parser allocate before it counts as unbounded.</summary>
    public const long AllocationLimit = 256L << 20;

    /// <summary>One input's run time that counts as a hang (generous: the fuzzer runs at nice 19 on a shared machine).</summary>
    public static readonly TimeSpan SlowLimit = TimeSpan.FromSeconds(10);

    private const int MaxInputBytes = 64 << 10;

    private readonly Dictionary<string, byte[]> corpus = new(StringComparer.Ordinal);
    private readonly HashSet<string> findings = new(StringComparer.Ordinal);
    private bool warm;

    public FuzzReport Run(TimeSpan budget, TextWriter log)
    {
        Directory.CreateDirectory(corpusFolder);
        foreach (var (name, data) in target.Seeds())
        {
            Keep(data, name);
        }

        foreach (var file in Directory.GetFiles(corpusFolder).Order(StringComparer.Ordinal))
        {
            Keep(File.ReadAllBytes(file), null);
        }

        warm = true; // seeds loaded: JIT and native library start-up are behind us, so slowness now counts
        var random = new Random(seed);
        var mutator = new Mutator(random, target.Dictionary);
        var clock = Stopwatch.StartNew();
        long executions = 0;
        var inputs = corpus.Values.ToList();
        while (clock.Elapsed < budget)
        {
            var input = mutator.Mutate(inputs[random.Next(inputs.Count)], inputs);
            if (input.Length > MaxInputBytes)
            {
                continue;
            }

            executions++;
            var outcome = Execute(input);
            if (outcome is not null && !corpus.ContainsKey(outcome))
            {
                var shrunk = Shrink(input, outcome);
                Keep(shrunk, null, outcome);
                inputs.Add(shrunk);
                log.WriteLine($"[{target.Name}] {clock.Elapsed.TotalSeconds:F0}s exec {executions}: new outcome {outcome} ({shrunk.Length} bytes)");
            }
        }

        return new FuzzReport(target.Name, executions, corpus.Count, corpus.Values.Sum(v => (long)v.Length), findings.Count, clock.Elapsed.TotalSeconds, seed);
    }

    /// <summary>
    /// Shrinks a corpus folder to the smallest input per outcome, keeping the named seeds (files
    /// whose names are not hashes); returns (files before, files after, bytes after).
    /// </summary>
    public (int Before, int After, long Bytes) Minimize()
    {
        warm = true;
        var files = Directory.GetFiles(corpusFolder).Order(StringComparer.Ordinal).ToArray();
        var best = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            var outcome = Execute(File.ReadAllBytes(file)) ?? "finding:" + name;
            if (!IsHashName(name))
            {
                continue; // seeds stay
            }

            if (!best.TryGetValue(outcome, out var kept) || new FileInfo(file).Length < new FileInfo(kept).Length)
            {
                best[outcome] = file;
            }
        }

        var keep = best.Values.ToHashSet(StringComparer.Ordinal);
        foreach (var file in files.Where(f => IsHashName(Path.GetFileName(f)) && !keep.Contains(f)))
        {
            File.Delete(file);
        }

        var left = Directory.GetFiles(corpusFolder);
        return (files.Length, left.Length, left.Sum(f => new FileInfo(f).Length));
    }

    private static bool IsHashName(string name) => name.Length == 16 && name.All(char.IsAsciiHexDigitLower);

    /// <summary>Runs one input: its outcome signature, or null when it was a bug (recorded as a finding).</summary>
    private string? Execute(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        Exception? error;
        string outcome;
        try
        {
            target.Execute(input);
            outcome = "accepted";
            error = null;
        }
        catch (Exception e)
        {
            outcome = Signature(e);
            error = target.IsExpected(e) ? null : e;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (error is not null)
        {
            var what = target.Expected.Contains(error.GetType()) ? "empty or multi-line message" : "unexpected";
            Finding(input, $"{what} {error.GetType().Name} at {TopFrame(error)}", error.ToString());
            return null;
        }

        if (allocated > AllocationLimit)
        {
            Finding(input, $"allocation {allocated >> 20} MB ({outcome})", $"{allocated} bytes allocated by a {input.Length}-byte input; outcome {outcome}");
            return null;
        }

        if (warm && clock.Elapsed > SlowLimit)
        {
            Finding(input, $"slow {clock.Elapsed.TotalSeconds:F1}s ({outcome})", $"{clock.Elapsed} for a {input.Length}-byte input; outcome {outcome}");
            return null;
        }

        return outcome;
    }

    /// <summary>Removes blocks (halving their size) as long as the outcome stays the same; at most a few hundred runs.</summary>
    private byte[] Shrink(byte[] input, string outcome)
    {
        var current = input;
        var runs = 0;
        for (var block = Math.Max(1, current.Length / 2); block >= 1 && runs < 300; block /= 2)
        {
            for (var at = 0; at + block <= current.Length && runs < 300; runs++)
            {
                byte[] candidate = [.. current.AsSpan(0, at), .. current.AsSpan(at + block)];
                if (Execute(candidate) == outcome)
                {
                    current = candidate;
                }
                else
                {
                    at += block;
                }
            }
        }

        return current;
    }

    private void Keep(byte[] data, string? name, string? outcome = null)
    {
        outcome ??= Execute(data) ?? "finding:" + Convert.ToHexString(SHA256.HashData(data))[..12];
        if (corpus.ContainsKey(outcome) && name is null)
        {
            return;
        }

        corpus[name is null ? outcome : outcome + "|" + name] = data;
        var file = Path.Combine(corpusFolder, name ?? Convert.ToHexString(SHA256.HashData(data))[..16].ToLowerInvariant());
        if (!File.Exists(file))
        {
            File.WriteAllBytes(file, data);
        }
    }

    private void Finding(byte[] input, string key, string details)
    {
        if (!findings.Add(key))
        {
            return;
        }

        Directory.CreateDirectory(findingsFolder);
        var name = Convert.ToHexString(SHA256.HashData(input))[..16].ToLowerInvariant();
        File.WriteAllBytes(Path.Combine(findingsFolder, name), input);
        File.WriteAllText(Path.Combine(findingsFolder, name + ".txt"), key + "\n\n" + details + "\n");
        Console.Error.WriteLine($"[{target.Name}] FINDING {key} -> {name}");
    }

    /// <summary>
    /// A rejection's shape: its type, where it was thrown (method and IL offset of the top frames, a
    /// cheap stand-in for coverage) and, for the native codecs, the codec's reason. Input text that
    /// messages quote does not count.
    /// </summary>
    private static string Signature(Exception e)
    {
        var frames = new StackTrace(e, fNeedFileInfo: false).GetFrames().Take(3)
            .Select(f => $"{f.GetMethod()?.DeclaringType?.Name}.{f.GetMethod()?.Name}+{f.GetILOffset()}");
        var reason = CodecReason().Match(e.Message) is { Success: true } m ? " " + CodecWords(m.Groups[1].Value) : "";
        return $"{e.GetType().Name} at {string.Join(" < ", frames)}{reason}";
    }

    /// <summary>A codec's reason without what it quotes of the input: the text after its last colon, without bracketed bytes, numbers or hex.</summary>
    private static string CodecWords(string reason)
    {
        var colon = reason.LastIndexOf(": ", StringComparison.Ordinal);
        var text = Bracketed().Replace(Hex().Replace(colon >= 0 ? reason[(colon + 2)..] : reason, "0x?"), "");
        return Normalize(text, 40);
    }

    private static string Normalize(string message, int length = 140)
    {
        var text = Digits().Replace(Quoted().Replace(message, "'…'"), "#");
        return text.Length > length ? text[..length] : text;
    }

    private static string TopFrame(Exception e) =>
        new StackTrace(e, fNeedFileInfo: false).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("OnnxCnn", StringComparison.Ordinal) == true)?.GetMethod() is { } m
            ? $"{m.DeclaringType?.Name}.{m.Name}"
            : "?";

    [GeneratedRegex(@"(?:cannot be decoded|is truncated): (.*)$")]
    private static partial Regex CodecReason();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Bracketed();

    [GeneratedRegex(@"0x[0-9a-fA-F]+")]
    private static partial Regex Hex();

    [GeneratedRegex(@"'[^']*'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}

using System.Globalization;
using System.Text.Json;
using OnnxCnn.Fuzz;

// OnnxCnn.Fuzz: list | seeds TARGET DIR | mutate TARGET [SECONDS] [SEED] | minimize TARGET | replay TARGET [DIR] | afl TARGET
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: OnnxCnn.Fuzz list | seeds TARGET DIR | mutate TARGET [SECONDS] [SEED] | minimize TARGET | replay TARGET [DIR] | afl TARGET");
    return 0;
}

try
{
    switch (args[0])
    {
        case "list":
            foreach (var t in FuzzTargets.All)
            {
                Console.WriteLine($"{t.Name,-16} {t.Description}");
            }

            return 0;
        case "seeds":
            Directory.CreateDirectory(args[2]);
            foreach (var (name, data) in FuzzTargets.Get(args[1]).Seeds())
            {
                File.WriteAllBytes(Path.Combine(args[2], name), data);
            }

            return 0;
        case "mutate":
        {
            var target = FuzzTargets.Get(args[1]);
            var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 300;
            var seed = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
            var findings = Path.Combine(TestUtilitiesRoot(), "artifacts", "fuzz", target.Name);
            var report = new MutationFuzzer(target, FuzzTargets.CorpusFolder(target.Name), findings, seed).Run(TimeSpan.FromSeconds(seconds), Console.Out);
            Console.WriteLine(JsonSerializer.Serialize(report));
            return report.Findings == 0 ? 0 : 1;
        }

        case "minimize":
        {
            var target = FuzzTargets.Get(args[1]);
            var findings = Path.Combine(TestUtilitiesRoot(), "artifacts", "fuzz", target.Name);
            var (before, after, bytes) = new MutationFuzzer(target, FuzzTargets.CorpusFolder(target.Name), findings, 0).Minimize();
            Console.WriteLine($"{target.Name}: {before} inputs → {after} ({bytes} bytes), one per outcome plus the seeds");
            return 0;
        }

        case "replay":
        {
            var target = FuzzTargets.Get(args[1]);
            var failures = 0;
            var files = Directory.GetFiles(args.Length > 2 ? args[2] : FuzzTargets.CorpusFolder(target.Name)).Order(StringComparer.Ordinal).ToArray();
            foreach (var file in files)
            {
                if (target.Check(File.ReadAllBytes(file)) is { } e)
                {
                    failures++;
                    Console.WriteLine($"{Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}");
                }
            }

            Console.WriteLine($"{target.Name}: {files.Length} inputs, {failures} outside the contract");
            return failures == 0 ? 0 : 1;
        }

        case "afl":
        {
            // Under afl-fuzz with SharpFuzz-instrumented assemblies: anything outside the contract crashes the run.
            var target = FuzzTargets.Get(args[1]);
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                if (target.Check(copy.ToArray()) is { } e)
                {
                    throw new InvalidOperationException($"outside the contract of {target.Name}: {e.GetType().Name}", e);
                }
            });
            return 0;
        }

        default:
            Console.Error.WriteLine($"error: unknown mode '{args[0]}' (list, seeds, mutate, minimize, replay, afl)");
            return 2;
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

static string TestUtilitiesRoot() => OnnxCnn.TestUtilities.RepoPaths.Root;

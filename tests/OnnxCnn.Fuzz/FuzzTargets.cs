using OnnxCnn.Fuzz.Targets;

namespace OnnxCnn.Fuzz;

/// <summary>Every fuzz target, by name; the corpus of target N is tests/fixtures/fuzz/N/.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        ModelTargets.Onnx(),
        ModelTargets.Checkpoint(),
        ImageTargets.Jpeg(),
        ImageTargets.Png(),
        NpyTarget.Create(),
        SpecTargets.Preprocess(),
        SpecTargets.Augment(),
        LabelsMetadataTarget.Create(),
    ];

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}' (targets: {string.Join(", ", All.Select(t => t.Name))}).");

    /// <summary>The committed corpus folder of a target.</summary>
    public static string CorpusFolder(string name) => TestUtilities.RepoPaths.Fixture("fuzz", name);
}

using System.Globalization;
using OnnxCnn.TestUtilities;
using static OnnxCnn.Preprocess.Tests.GoldenOutputCases;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>
/// Pins the exact output bytes of decode + resize/crop + normalise + layout and of augmentation
/// (tests/fixtures/preprocess/golden-hashes.txt, written from the code at commit fa724c3, before
/// the fused kernels): every kernel path must reproduce them bit for bit.
/// </summary>
[Collection(nameof(VectorToggle))]
public class GoldenOutputTests
{
    private static readonly Lazy<Dictionary<string, string>> Pinned = new(() => File.ReadLines(RepoPaths.Fixture("preprocess", "golden-hashes.txt"))
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.Split('\t'))
        .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal));

    public static TheoryData<string> Cases() => [.. CaseNames()];

    private static List<string> CaseNames()
    {
        var data = new List<string>();
        foreach (var (w, h) in Sizes)
        {
            foreach (var spec in Specs)
            {
                data.Add($"transform|{w}x{h}|{spec}|Bilinear");
            }

            data.Add($"transform|{w}x{h}|imagenet|Bicubic");
            data.Add($"transform|{w}x{h}|imagenet|Nearest");
        }

        foreach (var (w, h) in new[] { (500, 375), (333, 251) })
        {
            foreach (var augment in Augments)
            {
                data.Add($"augment|{w}x{h}|{augment}|imagenet");
            }

            data.Add($"augment|{w}x{h}|{Augments[0]}|resize=160x200,crop=150x190,layout=nhwc");
            data.Add($"augment|{w}x{h}|{Augments[4]}|resize=160x200,crop=150x190");
        }

        data.Add("pipeline|imagenet|");
        data.Add("pipeline|resize=32,crop=28,layout=nhwc|");
        data.Add($"pipeline|imagenet|{Augments[0]}");
        data.Add($"pipeline|resize=32,crop=28|{Augments[5]},erase=0.5");
        return data;
    }

    /// <summary>Every transform and augmentation case on each kernel path: 0 (scalar), 128, 256, 512 bits; transforms also fused.</summary>
    public static TheoryData<string, int, bool> KernelPaths()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var name in CaseNames().Where(n => !n.StartsWith("pipeline", StringComparison.Ordinal)))
        {
            foreach (var width in new[] { 0, 128, 256, 512 })
            {
                data.Add(name, width, false);
                if (name.StartsWith("transform", StringComparison.Ordinal))
                {
                    data.Add(name, width, true);
                }
            }
        }

        return data;
    }

    public static async Task<float[]> Run(string name, bool fused = false)
    {
        var p = name.Split('|');
        var size = p[1].Contains('x', StringComparison.Ordinal) ? p[1].Split('x').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [];
        return p[0] switch
        {
            "transform" => Transform(size[0], size[1], p[2], Enum.Parse<ResampleFilter>(p[3]), fused),
            "augment" => Augment(size[0], size[1], p[2], p[3], samples: 4),
            _ => await Pipeline(p[1], p[2].Length == 0 ? null : p[2]),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Output_EveryCase_MatchesPinnedHash(string name)
    {
        var hash = Hash(await Run(name));
        Assert.True(Pinned.Value.TryGetValue(name, out var expected), $"no pinned hash for this case; today's output is:\n{name}\t{hash}");
        Assert.Equal(expected, hash);
    }

    [Theory]
    [MemberData(nameof(KernelPaths))]
    public async Task Output_ForcedKernelPath_MatchesPinnedHash(string name, int vectorWidth, bool fused)
    {
        var before = ImageTransforms.VectorWidth;
        try
        {
            // The portable Vector APIs run (in software) without hardware support too, so every path runs on any machine.
            ImageTransforms.VectorWidth = vectorWidth;
            Assert.Equal(Pinned.Value[name], Hash(await Run(name, fused)));
        }
        finally
        {
            ImageTransforms.VectorWidth = before;
        }
    }
}

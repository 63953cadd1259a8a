using System.Reflection;

namespace OnnxCnn.Runtime.Tests;

/// <summary>What build/OnnxRuntime.targets baked into this test assembly: the native package flavour and the pinned ORT version.</summary>
internal static class OrtFlavour
{
    public static string Built => Metadata("OnnxCnn.OrtFlavour");

    public static string PinnedVersion => Metadata("OnnxCnn.OrtVersion");

    private static string Metadata(string key) =>
        typeof(OrtFlavour).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

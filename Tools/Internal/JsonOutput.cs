using System.Text.Json;

namespace OnnxCnn.Cli.Internal;

/// <summary>One JSON style for every <c>--json</c> output.</summary>
internal static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
}

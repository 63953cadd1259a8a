using System.Text;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>Attribute reading with defaults.</summary>
internal static class Attr
{
    public static long Int(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    public static float Float(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    public static long[] Ints(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : [];

    public static string String(NodeProto node, string name, string fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? Encoding.UTF8.GetString(a.S.Span) : fallback;
}

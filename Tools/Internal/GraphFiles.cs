using System.Globalization;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Cli.Internal;

/// <summary>Loading, saving and shape arguments for the graph commands.</summary>
internal static class GraphFiles
{
    public static OnnxModel Load(string path)
    {
        ModelFiles.Require(path);
        return OnnxModel.Load(path);
    }

    /// <summary>Saves an edited model; refuses to overwrite the input in place, or an existing file without <paramref name="overwrite"/>.</summary>
    public static void Save(OnnxModel model, string input, string output, bool externalData, bool overwrite)
    {
        if (Path.GetFullPath(input) == Path.GetFullPath(output))
        {
            throw new UsageException($"-o '{output}' is the input model; write the edited model to a new file.");
        }

        OutputFiles.RequireWritable(output, "-o", overwrite);
        model.Save(output, new SaveOptions { ExternalData = externalData });
    }

    /// <summary>Parses <c>1x3x150x150</c> (first input) or <c>NAME=1x3x150x150</c>; null when not given.</summary>
    public static Dictionary<string, long[]>? ParseInputShape(OnnxModel model, string? text)
    {
        if (text is null)
        {
            return null;
        }

        var graph = new OnnxGraph(model.Graph);
        var inputs = model.Graph.Input.Where(i => graph.Initializer(i.Name) is null).Select(i => i.Name).ToList();
        var eq = text.LastIndexOf('=');
        var name = eq < 0 ? inputs.FirstOrDefault() : text[..eq];
        if (name is null || !inputs.Contains(name))
        {
            throw new UsageException($"--input-shape '{text}': the model has no input '{name}'; its inputs are: {string.Join(", ", inputs)}.");
        }

        var dims = text[(eq + 1)..].ToLowerInvariant().Split('x');
        var result = new long[dims.Length];
        for (var i = 0; i < dims.Length; i++)
        {
            if (!long.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out result[i]) || result[i] <= 0)
            {
                throw new UsageException($"--input-shape '{text}': '{dims[i]}' is not a positive dimension (expected e.g. 1x3x224x224).");
            }
        }

        var declared = model.Graph.Input.First(i => i.Name == name).Type?.TensorType?.Shape?.Dim.Count;
        if (declared is > 0 && declared != result.Length)
        {
            throw new UsageException($"--input-shape '{text}' has {result.Length} dimensions; input '{name}' has {declared}.");
        }

        return new Dictionary<string, long[]> { [name] = result };
    }

    /// <summary>Parses <c>A=B,C=D</c> pairs.</summary>
    public static Dictionary<string, string> ParsePairs(string option, IEnumerable<string> values)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
            {
                throw new UsageException($"{option} '{pair}' is not OLD=NEW.");
            }

            result[pair[..eq]] = pair[(eq + 1)..];
        }

        return result;
    }

    public static TensorProto.Types.DataType TypeOf(OnnxModel model, string tensor) =>
        (TensorProto.Types.DataType)(model.Graph.Input.Concat(model.Graph.Output).FirstOrDefault(v => v.Name == tensor)?.Type?.TensorType?.ElemType ?? 0);
}

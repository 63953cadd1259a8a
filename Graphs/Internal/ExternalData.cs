using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>Reads and writes tensor data stored in files next to a model (ONNX "external data").</summary>
internal static class ExternalData
{
    public static IEnumerable<TensorProto> AllTensors(GraphProto graph)
    {
        foreach (var t in graph.Initializer)
        {
            yield return t;
        }

        foreach (var node in graph.Node)
        {
            foreach (var a in node.Attribute)
            {
                if (a.T is not null)
                {
                    yield return a.T;
                }

                foreach (var t in a.Tensors)
                {
                    yield return t;
                }

                if (a.G is not null)
                {
                    foreach (var t in AllTensors(a.G))
                    {
                        yield return t;
                    }
                }

                foreach (var g in a.Graphs)
                {
                    foreach (var t in AllTensors(g))
                    {
                        yield return t;
                    }
                }
            }
        }
    }

    /// <summary>Reads every external tensor's bytes into raw_data, after checking where they come from.</summary>
    public static void Resolve(ModelProto model, string source, string? baseDirectory)
    {
        foreach (var tensor in AllTensors(model.Graph))
        {
            if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
            {
                continue;
            }

            var entries = tensor.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            if (!entries.TryGetValue("location", out var location) || location.Length == 0)
            {
                throw new InvalidDataException($"'{source}': tensor '{tensor.Name}' is stored externally but names no location.");
            }

            if (baseDirectory is null)
            {
                throw new InvalidDataException($"'{source}': tensor '{tensor.Name}' is stored in external file '{location}', but the model was not loaded from a file; load it by path.");
            }

            var file = SafePath(baseDirectory, location, source, tensor.Name);
            var offset = ParseLong(entries, "offset", 0, source, tensor.Name);
            var length = ParseLong(entries, "length", -1, source, tensor.Name);
            var fileLength = new FileInfo(file).Length;
            var size = TensorData.ElementSize(tensor.DataType);
            var expected = size == 0 ? -1 : checked(tensor.Dims.Aggregate(1L, (a, b) => a * b) * size);
            if (length < 0)
            {
                length = expected >= 0 ? expected : fileLength - offset;
            }

            if (offset < 0 || offset > fileLength || length > fileLength - offset)
            {
                throw new InvalidDataException($"'{source}': tensor '{tensor.Name}' wants bytes {offset}..{offset + length} of '{location}', which has {fileLength}.");
            }

            if (expected >= 0 && length != expected)
            {
                throw new InvalidDataException($"'{source}': tensor '{tensor.Name}' has {length} bytes in '{location}', but its shape needs {expected}.");
            }

            var bytes = new byte[length];
            using (var stream = File.OpenRead(file))
            {
                stream.Position = offset;
                stream.ReadExactly(bytes);
            }

            tensor.RawData = ByteString.CopyFrom(bytes);
            tensor.ExternalData.Clear();
            tensor.ClearDataLocation();
        }
    }

    /// <summary>
    /// The file an external location names, if it stays inside the model's folder: relative, no
    /// <c>..</c>, and no link that points out of the folder.
    /// </summary>
    public static string SafePath(string baseDirectory, string location, string source, string tensor)
    {
        var normalized = location.Replace('\\', '/');
        if (Path.IsPathRooted(normalized) || normalized.StartsWith('/') || normalized.Split('/').Any(s => s == ".."))
        {
            throw new InvalidDataException($"'{source}': tensor '{tensor}' names external data '{location}' outside the model's folder; only relative paths inside it are allowed.");
        }

        var root = Path.GetFullPath(baseDirectory);
        var full = Path.GetFullPath(Path.Combine(root, normalized));
        if (!File.Exists(full))
        {
            throw new InvalidDataException($"'{source}': tensor '{tensor}' names external data file '{location}', which does not exist in {root}.");
        }

        // A link inside the folder may still point outside it: check every component's real target.
        var real = Resolve(full);
        var realRoot = Resolve(root);
        if (!real.StartsWith(realRoot.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{source}': tensor '{tensor}' names external data '{location}', a link to '{real}' outside the model's folder.");
        }

        return full;
    }

    private static string Resolve(string path)
    {
        var current = Path.GetPathRoot(path)!;
        foreach (var part in path[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            for (var hops = 0; hops < 40; hops++)
            {
                var info = new FileInfo(next);
                if (info.LinkTarget is null)
                {
                    break;
                }

                next = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, info.LinkTarget));
            }

            current = next;
        }

        return current;
    }

    private static long ParseLong(Dictionary<string, string> entries, string key, long fallback, string source, string tensor)
    {
        if (!entries.TryGetValue(key, out var text))
        {
            return fallback;
        }

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"'{source}': tensor '{tensor}' has external {key} '{text}', not a non-negative number.");
    }
}

using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>
/// Writes a model, and its external data when there is any, as one unit that a kill at any moment
/// cannot tear. The data file's name carries a hash of its content
/// (<c>model.onnx.0123456789abcdef.data</c>) and is referenced by the model, so new data never
/// replaces the bytes an existing model points at: the data goes first under its own name, then the
/// model is renamed over the old one (the single commit point), and only then are the data files
/// that no model references any more deleted. Until the commit the old model and its data stay
/// intact; after it the new pair is complete. Orphans a kill leaves behind are removed by the next
/// save of the same model.
/// </summary>
internal static class ModelWriter
{
    private const int TokenLength = 16;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>; large tensors to a data file when <paramref name="external"/>.</summary>
    public static void Save(ModelProto model, string path, bool external, int threshold)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var name = Path.GetFileName(full);
        var tempModel = full + ".tmp";
        var tempData = full + ".data.tmp";
        var replaced = ReferencedDataFiles(full);
        var moved = new List<(TensorProto Tensor, ByteString Data)>();
        string? dataName = null;
        try
        {
            if (external)
            {
                dataName = WriteData(model, tempData, name, threshold, moved);
            }

            using (var stream = new FileStream(tempModel, FileMode.Create, FileAccess.Write))
            {
                model.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }

            if (dataName is not null)
            {
                // Same name means same bytes (the name is their hash), so replacing it changes nothing a model sees.
                File.Move(tempData, Path.Combine(dir, dataName), overwrite: true);
            }

            File.Move(tempModel, full, overwrite: true);
        }
        catch
        {
            File.Delete(tempModel);
            File.Delete(tempData);
            throw;
        }
        finally
        {
            // The in-memory model keeps its data inline whatever happened on disk.
            foreach (var (tensor, data) in moved)
            {
                tensor.ExternalData.Clear();
                tensor.ClearDataLocation();
                tensor.RawData = data;
            }
        }

        RemoveUnreferenced(dir, name, dataName, replaced);
    }

    /// <summary>Moves every tensor of at least <paramref name="threshold"/> bytes into <paramref name="tempData"/>; returns the data file's final name, or null when no tensor is that large.</summary>
    private static string? WriteData(ModelProto model, string tempData, string modelName, int threshold, List<(TensorProto Tensor, ByteString Data)> moved)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var data = new FileStream(tempData, FileMode.Create, FileAccess.Write))
        {
            foreach (var tensor in ExternalData.AllTensors(model.Graph))
            {
                if (tensor.HasRawData && tensor.RawData.Length >= threshold)
                {
                    moved.Add((tensor, tensor.RawData));
                    var offset = data.Position;
                    tensor.RawData.WriteTo(data);
                    hash.AppendData(tensor.RawData.Span);
                    tensor.ClearRawData();
                    tensor.DataLocation = TensorProto.Types.DataLocation.External;
                    tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
                    tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = moved[^1].Data.Length.ToString(CultureInfo.InvariantCulture) });
                }
            }

            data.Flush(flushToDisk: true);
        }

        if (moved.Count == 0)
        {
            File.Delete(tempData);
            return null;
        }

        var dataName = $"{modelName}.{Convert.ToHexStringLower(hash.GetHashAndReset())[..TokenLength]}.data";
        foreach (var (tensor, _) in moved)
        {
            tensor.ExternalData.Insert(0, new StringStringEntryProto { Key = "location", Value = dataName });
        }

        return dataName;
    }

    /// <summary>The data files (names inside the model's folder) that the model now at <paramref name="path"/> references.</summary>
    private static HashSet<string> ReferencedDataFiles(string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var info = new FileInfo(path);

        // A model with external data is small; a large file keeps its weights inline and references nothing.
        if (!info.Exists || info.Length > 64L << 20)
        {
            return names;
        }

        try
        {
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            foreach (var tensor in ExternalData.AllTensors(proto.Graph))
            {
                var location = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
                if (tensor.DataLocation == TensorProto.Types.DataLocation.External && !string.IsNullOrEmpty(location)
                    && location.IndexOfAny(['/', '\\']) < 0 && location != "..")
                {
                    names.Add(location);
                }
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Not a model we can read: it references nothing we would delete.
        }

        return names;
    }

    /// <summary>
    /// Deletes the data files the replaced model referenced and the versioned data files of this
    /// model's name that a killed save left behind — all except <paramref name="keep"/>.
    /// </summary>
    private static void RemoveUnreferenced(string dir, string modelName, string? keep, HashSet<string> replaced)
    {
        var candidates = new HashSet<string>(replaced, StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, modelName + ".*.data"))
        {
            if (IsVersionedDataName(Path.GetFileName(file), modelName))
            {
                candidates.Add(Path.GetFileName(file));
            }
        }

        candidates.Remove(keep ?? string.Empty);
        foreach (var file in candidates)
        {
            try
            {
                File.Delete(Path.Combine(dir, file));
            }
            catch (IOException)
            {
                // Left for the next save: the committed model does not reference it.
            }
        }
    }

    private static bool IsVersionedDataName(string file, string modelName)
    {
        var token = file.Length == modelName.Length + TokenLength + 6 ? file.AsSpan(modelName.Length + 1, TokenLength) : [];
        return token.Length == TokenLength && file.EndsWith(".data", StringComparison.Ordinal)
            && file.StartsWith(modelName + ".", StringComparison.Ordinal) && !token.ContainsAnyExcept("0123456789abcdef");
    }
}

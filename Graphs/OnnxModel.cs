using Google.Protobuf;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs;

/// <summary>
/// An ONNX model in memory: its <see cref="ModelProto"/>, with external data (files next to the
/// model) read into the tensors on load. Loading refuses external data that would leave the
/// model's folder and checks offsets and lengths; saving is atomic and writes external data when
/// asked or when the model would not fit protobuf's 2 GB limit.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Protobuf cannot serialise messages of 2 GB or more.</summary>
    public const long ProtobufLimit = int.MaxValue;

    /// <summary>Wraps a model proto (no external data is resolved; use <see cref="Load(string)"/> for files).</summary>
    public OnnxModel(ModelProto proto, string? source = null)
    {
        Proto = proto;
        Source = source ?? "<model>";
        proto.Graph ??= new GraphProto();
    }

    /// <summary>The model.</summary>
    public ModelProto Proto { get; }

    /// <summary>Where the model came from (file path, or a description), for messages.</summary>
    public string Source { get; }

    /// <summary>The main graph.</summary>
    public GraphProto Graph => Proto.Graph;

    /// <summary>The default-domain (ai.onnx) opset version, or 0 when none is imported.</summary>
    public long Opset => Proto.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0;

    /// <summary>Loads a model file, reading external data from files in the model's folder.</summary>
    public static OnnxModel Load(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"'{path}' is a folder, not an ONNX model file.");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file '{path}' not found.", path);
        }

        using var stream = File.OpenRead(path);
        return Load(stream, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Loads a model from bytes; external data, if any, is resolved against <paramref name="baseDirectory"/>.</summary>
    public static OnnxModel Load(byte[] bytes, string source = "<bytes>", string? baseDirectory = null) =>
        Load(new MemoryStream(bytes, writable: false), source, baseDirectory);

    /// <summary>Loads a model from a stream; external data, if any, is resolved against <paramref name="baseDirectory"/>.</summary>
    public static OnnxModel Load(Stream stream, string source = "<stream>", string? baseDirectory = null)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{source}' is not an ONNX model (protobuf ModelProto expected): {e.Message}", e);
        }

        if (proto.Graph is null || proto.IrVersion <= 0
            || (proto.Graph.Node.Count == 0 && proto.Graph.Output.Count == 0 && proto.Graph.Initializer.Count == 0))
        {
            throw new InvalidDataException($"'{source}' is not an ONNX model: it has no graph or no IR version (truncated or not a model file?).");
        }

        ExternalData.Resolve(proto, source, baseDirectory);
        return new OnnxModel(proto, source);
    }

    /// <summary>The serialized model (fails above protobuf's 2 GB limit; use <see cref="Save"/> with external data then).</summary>
    public byte[] ToBytes()
    {
        var size = Proto.CalculateSize();
        if (size < 0 || size >= ProtobufLimit)
        {
            throw new InvalidOperationException($"model '{Source}' is larger than protobuf's 2 GB limit; save it with external data.");
        }

        return Proto.ToByteArray();
    }

    /// <summary>
    /// Saves atomically (temporary files, then rename). Tensors of at least
    /// <see cref="SaveOptions.ExternalThreshold"/> bytes go to one data file next to the model when
    /// <see cref="SaveOptions.ExternalData"/> is set or the model exceeds 2 GB.
    /// </summary>
    public void Save(string path, SaveOptions? options = null)
    {
        options ??= new SaveOptions();
        var external = options.ExternalData || Proto.CalculateSize() is < 0 or >= (int)ProtobufLimit;
        ModelWriter.Save(Proto, path, external, options.ExternalThreshold);
    }

    /// <summary>Creates a deep copy.</summary>
    public OnnxModel Clone() => new(Proto.Clone(), Source);
}

/// <summary>How <see cref="OnnxModel.Save"/> writes a model.</summary>
public sealed class SaveOptions
{
    /// <summary>Write large tensors to a data file next to the model (always done above 2 GB).</summary>
    public bool ExternalData { get; init; }

    /// <summary>Tensors of at least this many bytes are stored externally (default 1 KiB).</summary>
    public int ExternalThreshold { get; init; } = 1024;
}

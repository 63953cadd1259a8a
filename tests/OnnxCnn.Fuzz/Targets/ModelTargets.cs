using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training;

namespace OnnxCnn.Fuzz.Targets;

/// <summary>
/// ONNX protobuf loading with external data (OnnxModel.Load + the summary every inspecting
/// command builds) and checkpoint loading into a training session (what <c>--resume</c> does).
/// Inputs are two parts (<see cref="Parts"/>): the model file and the external data file next to it.
/// </summary>
internal static class ModelTargets
{
    private const string DataName = "model.onnx.data";

    private static readonly TrainingSpec CheckpointSpec = new() { Trainable = ["*"], Optimizer = OptimizerKind.Adam };

    private static readonly Lazy<TrainingSession> Trainer = new(() =>
        TrainingSession.Create(OnnxModel.Load(RepoPaths.Fixture("training", "small_mlp_adam", "model.onnx")), CheckpointSpec));

    private static readonly byte[][] ProtoTokens = ImageTargets.Tokens("location", DataName, "offset", "length", "../", "/etc/passwd", "onnxcnn.checkpoint.step", "epoch",
        "9223372036854775807", "-1", "2147483648", new byte[] { 0x08, 0x01 }, new byte[] { 0x10, 0x01 }, new byte[] { 0x40, 0x01 }, new byte[] { 0x50, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 });

    public static FuzzTarget Onnx() => new()
    {
        Name = "onnx",
        Description = "OnnxModel.Load of model.onnx with external data model.onnx.data beside it, then ModelSummary.Create",
        Execute = data =>
        {
            var path = WriteParts("onnx", data, "model.onnx");
            var model = OnnxModel.Load(path);
            _ = ModelSummary.Create(model);
        },
        Expected = [typeof(InvalidDataException), typeof(NotSupportedException)],
        Seeds = OnnxSeeds,
        Dictionary = ProtoTokens,
    };

    public static FuzzTarget Checkpoint() => new()
    {
        Name = "checkpoint",
        Description = "TrainingSession.LoadCheckpoint (Adam, every parameter trainable) of checkpoint.onnx with external data beside it",
        Execute = data =>
        {
            var path = WriteParts("checkpoint", data, "checkpoint.onnx");
            _ = Trainer.Value.LoadCheckpoint(path);
        },
        Expected = [typeof(InvalidDataException), typeof(NotSupportedException)],
        Seeds = CheckpointSeeds,
        Dictionary = ProtoTokens,
    };

    private static string WriteParts(string target, byte[] data, string fileName)
    {
        var parts = Parts.Split(data, 2);
        var dir = Scratch.Folder(target);
        var path = Path.Combine(dir, fileName);
        File.WriteAllBytes(path, parts[0]);
        if (parts[1].Length > 0)
        {
            File.WriteAllBytes(Path.Combine(dir, fileName + ".data"), parts[1]);
        }

        return path;
    }

    private static IEnumerable<(string, byte[])> OnnxSeeds()
    {
        yield return ("small_cnn.bin", Parts.Join(Models.SmallCnn(), []));
        yield return ("small_cnn_external.bin", External("model.onnx", OnnxModel.Load(Models.SmallCnn())));
        yield return ("tiny_resnet_external.bin", External("model.onnx", OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"))));
        foreach (var style in new[] { "keras_nhwc", "paddle_style", "torchvision_style" })
        {
            yield return (style + ".bin", Parts.Join(File.ReadAllBytes(RepoPaths.Fixture("graphs", style, "model.onnx")), []));
        }
    }

    private static IEnumerable<(string, byte[])> CheckpointSeeds()
    {
        using var dir = new TempDir();
        Trainer.Value.SaveCheckpoint(dir.File("checkpoint.onnx"), new Dictionary<string, string> { ["epoch"] = "3" });
        var checkpoint = OnnxModel.Load(dir.File("checkpoint.onnx"));
        yield return ("adam_inline.bin", Parts.Join(checkpoint.ToBytes(), []));
        yield return ("adam_external.bin", External("checkpoint.onnx", checkpoint));
    }

    /// <summary>The model saved with external data (tensors of 64 bytes and more), as model and data parts.</summary>
    private static byte[] External(string fileName, OnnxModel model)
    {
        using var dir = new TempDir();
        var path = dir.File(fileName);
        var clone = model.Clone();
        new OnnxModel(clone.Proto, path).Save(path, new SaveOptions { ExternalData = true, ExternalThreshold = 64 });
        return Parts.Join(File.ReadAllBytes(path), File.ReadAllBytes(path + ".data"));
    }
}

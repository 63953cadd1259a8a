using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary>The real-world graph fixtures made by tests/fixtures/graphs/generate_graphs.py, and helpers to run models.</summary>
internal static class Fixtures
{
    public static readonly string[] RealWorld = ["torchvision_style", "keras_nhwc", "paddle_style"];

    public static OnnxModel Model(string name) => OnnxModel.Load(RepoPaths.Fixture("graphs", name, "model.onnx"));

    public static JsonElement Reference(string name) =>
        JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("graphs", name, "reference.json"))).RootElement;

    public static Tensor Input(string name) => Npy.Read(RepoPaths.Fixture("graphs", name, "input.npy"));

    public static float[] Expected(string name)
    {
        using var t = Npy.Read(RepoPaths.Fixture("graphs", name, "expected.npy"));
        return t.As<float>().ToArray();
    }

    /// <summary>Runs a model in ONNX Runtime on one input; returns the first output's shape and values.</summary>
    public static (long[] Shape, float[] Values) Run(OnnxModel model, Tensor input)
    {
        using var session = InferenceSession.FromBytes(model.ToBytes());
        using var result = session.Run(input);
        var output = result[0].Value.As<float>();
        return (output.Shape.ToArray(), output.ToArray());
    }
}

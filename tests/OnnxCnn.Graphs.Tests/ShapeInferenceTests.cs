using OnnxCnn.Graphs.Proto;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

public class ShapeInferenceTests
{
    private const string ConformanceRoot = "/usr/share/libonnx-testdata/data/node";

    /// <summary>Operators shape inference promises to handle (issue: CNN operator set).</summary>
    private static readonly HashSet<string> Covered = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "MaxPool", "MaxUnpool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm", "MatMul",
        "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Add", "Sub", "Mul", "Div",
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Softmax", "LogSoftmax",
        "BatchNormalization", "Dropout", "Identity", "Pad", "Resize", "ReduceMean", "ReduceSum", "Shape",
        "Slice", "Gather", "Cast", "Split", "Expand", "Where", "Greater", "Tile", "OneHot", "GatherElements",
    };

    /// <summary>
    /// Every single-node ONNX conformance case of those operators: our inferred output shapes (from
    /// the real input shapes) equal the shapes of ONNX's expected outputs.
    /// </summary>
    [Fact]
    public void Conformance_InferredShapes_EqualExpectedOutputShapes()
    {
        Assert.True(Directory.Exists(ConformanceRoot), $"{ConformanceRoot} is missing: apt-get install -y libonnx-testdata");
        var failures = new List<string>();
        var checkedCases = 0;
        foreach (var dir in Directory.GetDirectories(ConformanceRoot).Order(StringComparer.Ordinal))
        {
            var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
            if (model.Graph.Node.Count != 1 || !Covered.Contains(model.Graph.Node[0].OpType)
                || model.Graph.Input.Any(i => i.Type?.TensorType is null))
            {
                continue;
            }

            var set = Path.Combine(dir, "test_data_set_0");
            var inputs = new Dictionary<string, long[]>(StringComparer.Ordinal);
            var graph = new OnnxGraph(model.Graph);
            var runtimeInputs = model.Graph.Input.Where(i => graph.Initializer(i.Name) is null).ToList();
            for (var i = 0; i < runtimeInputs.Count && File.Exists(Path.Combine(set, $"input_{i}.pb")); i++)
            {
                inputs[runtimeInputs[i].Name] = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(set, $"input_{i}.pb"))).Dims.ToArray();
            }

            // Constant inputs (shapes, axes, pads, scales) come from the data set, as the graph inputs they are.
            foreach (var (name, index) in runtimeInputs.Select((v, k) => (v.Name, k)))
            {
                var file = Path.Combine(set, $"input_{index}.pb");
                if (File.Exists(file))
                {
                    var tensor = TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
                    tensor.Name = name;
                    model.Graph.Initializer.Add(tensor);
                }
            }

            var result = ShapeInference.Infer(model, inputs);
            for (var o = 0; File.Exists(Path.Combine(set, $"output_{o}.pb")); o++)
            {
                var expected = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(set, $"output_{o}.pb"))).Dims.ToArray();
                var actual = result[model.Graph.Node[0].Output[o]];
                var text = actual.ToString();
                if (actual.Dims is null || !actual.Dims.Select(d => d.Value).SequenceEqual(expected))
                {
                    failures.Add($"{Path.GetFileName(dir)} output {o}: inferred {text}, expected [{string.Join(",", expected)}]");
                }
            }

            checkedCases++;
        }

        Assert.True(checkedCases > 250, $"only {checkedCases} cases checked");
        Assert.True(failures.Count == 0, $"{failures.Count} of {checkedCases} cases differ:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void SymbolicBatch_FlowsThroughShapeChainReshape()
    {
        // x[N,8,2,2] -> Shape -> Slice(0:1) -> Concat([-1]) -> Reshape => [N,32]
        var b = new ModelBuilder(opset: 13)
            .Input("x", TensorProto.Types.DataType.Float, "N", 8, 2, 2)
            .Initializer("starts", [0L], 1)
            .Initializer("ends", [1L], 1)
            .Initializer("minus1", [-1L], 1)
            .Node("Shape", ["x"], ["s"])
            .Node("Slice", ["s", "starts", "ends"], ["n"])
            .Node("Concat", ["n", "minus1"], ["target"], ModelBuilder.Int("axis", 0))
            .Node("Reshape", ["x", "target"], ["y"])
            .Output("y", TensorProto.Types.DataType.Float);
        var shapes = ShapeInference.Infer(OnnxModel.Load(b.ToBytes()));
        Assert.Equal("[N,32]", shapes["y"].ToString());
        Assert.Equal("[N,1]", shapes.Values["target"].Length == 2 ? $"[{shapes.Values["target"][0]},1]" : "?");
    }

    [Fact]
    public void UnknownOperator_GivesUnknownShape_NotException()
    {
        var b = new ModelBuilder()
            .Input("x", TensorProto.Types.DataType.Float, 1, 3)
            .Node("FancyOp", ["x"], ["y"])
            .Node("Relu", ["y"], ["z"])
            .Output("z", TensorProto.Types.DataType.Float);
        var shapes = ShapeInference.Infer(OnnxModel.Load(b.ToBytes()));
        Assert.Null(shapes["y"].Dims);
        Assert.Equal("?", shapes["z"].ToString());
    }

    [Fact]
    public void TinyResNet_OutputShape_IsBatchBy10()
    {
        var model = OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        var shapes = ShapeInference.Infer(model);
        Assert.Equal("[batch,10]", shapes["logits"].ToString());
        var fixedBatch = ShapeInference.Infer(model, new Dictionary<string, long[]> { ["input"] = [4, 3, 32, 32] });
        Assert.Equal("[4,10]", fixedBatch["logits"].ToString());
    }
}

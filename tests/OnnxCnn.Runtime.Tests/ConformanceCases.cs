using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// ONNX's node conformance cases (libonnx-testdata) for the operators OnnxCnn's CNNs and training
/// compiler use: every single-node case of those operators, plus its "_expanded" function-body twin.
/// </summary>
public static class ConformanceCases
{
    public const string Root = "/usr/share/libonnx-testdata/data/node";

    public static readonly IReadOnlySet<string> Operators = new HashSet<string>(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul",
        "BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu",
        "Softmax", "LogSoftmax", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat",
        "Split", "Slice", "Pad", "Add", "Sub", "Mul", "Div", "Sum", "ReduceSum", "ReduceMean",
        "ScatterElements", "GatherElements", "OneHot", "Expand", "Where", "Greater", "Cast", "Dropout",
        "Resize", "Identity",
    };

    /// <summary>
    /// Cases that cannot pass on ONNX Runtime 1.30's CPU provider, each with its reason. The test
    /// asserts these still fail, so the list cannot silently go stale.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> KnownFailures = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["test_cast_BFLOAT16_to_FLOAT"] = "bfloat16 tensors are not supported by OnnxCnn tensors (.NET has no bfloat16 element type)",
        ["test_cast_FLOAT_to_BFLOAT16"] = "bfloat16 tensors are not supported by OnnxCnn tensors (.NET has no bfloat16 element type)",
        ["test_cast_FLOAT_to_STRING"] = "string tensors are not supported by OnnxCnn tensors",
        ["test_cast_STRING_to_FLOAT"] = "string tensors are not supported by OnnxCnn tensors",
        ["test_identity_opt"] = "the input is an ONNX optional value, not a tensor",
        ["test_identity_sequence"] = "the input is an ONNX sequence, not a tensor",
        ["test_resize_downsample_scales_cubic_align_corners"] = "ORT 1.30 and the ONNX 1.12 reference (Debian's test data) disagree on align_corners downsampling",
        ["test_resize_downsample_scales_linear_align_corners"] = "ORT 1.30 and the ONNX 1.12 reference (Debian's test data) disagree on align_corners downsampling",
        ["test_training_dropout"] = "random mask: the expected output comes from NumPy's generator, ORT draws its own (DropoutTests check the semantics)",
        ["test_training_dropout_default"] = "random mask: the expected output comes from NumPy's generator, ORT draws its own (DropoutTests check the semantics)",
        ["test_training_dropout_default_mask"] = "random mask: the expected output comes from NumPy's generator, ORT draws its own (DropoutTests check the semantics)",
        ["test_training_dropout_mask"] = "random mask: the expected output comes from NumPy's generator, ORT draws its own (DropoutTests check the semantics)",
    };

    /// <summary>(case name, operator) for every selected case, sorted; empty when the data is missing.</summary>
    public static IReadOnlyList<(string Name, string Op)> All { get; } = Discover();

    private static List<(string, string)> Discover()
    {
        var result = new List<(string, string)>();
        if (!Directory.Exists(Root))
        {
            return result;
        }

        var single = new Dictionary<string, string>(StringComparer.Ordinal);
        var dirs = Directory.GetDirectories(Root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        foreach (var name in dirs)
        {
            var file = Path.Combine(Root, name, "model.onnx");
            if (!File.Exists(file) || name.EndsWith("_expanded", StringComparison.Ordinal))
            {
                continue;
            }

            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
            if (model.Graph.Node.Count == 1 && Operators.Contains(model.Graph.Node[0].OpType) && model.Graph.Node[0].Domain is "" or "ai.onnx")
            {
                single[name] = model.Graph.Node[0].OpType;
            }
        }

        foreach (var name in dirs)
        {
            if (single.TryGetValue(name, out var op))
            {
                result.Add((name, op));
            }
            else if (name.EndsWith("_expanded", StringComparison.Ordinal) && single.TryGetValue(name[..^"_expanded".Length], out var baseOp))
            {
                result.Add((name, baseOp));
            }
        }

        return result;
    }
}

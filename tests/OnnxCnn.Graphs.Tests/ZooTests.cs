using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Graphs.Zoo;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary>
/// The zoo builders against torchvision: state_dict names and shapes, parameter counts and the
/// node list of torch.onnx.export, from tests/fixtures/zoo (generate_zoo_reference.py).
/// </summary>
public class ZooTests
{
    public static TheoryData<string> AllNames => [.. ModelZoo.Names];

    [Fact]
    public void Names_AreTorchvisionsEight()
    {
        Assert.Equal(["vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101"], ModelZoo.Names);
    }

    // Parameter counts as torchvision reports them (sum over model.parameters()), and the
    // elements of all BatchNorm running_mean/running_var buffers.
    [Theory]
    [InlineData("vgg11", 132_863_336, 0)]
    [InlineData("vgg13", 133_047_848, 0)]
    [InlineData("vgg16", 138_357_544, 0)]
    [InlineData("vgg19", 143_667_240, 0)]
    [InlineData("resnet18", 11_689_512, 9_600)]
    [InlineData("resnet34", 21_797_672, 17_024)]
    [InlineData("resnet50", 25_557_032, 53_120)]
    [InlineData("resnet101", 44_549_160, 105_344)]
    public void StateDict_FullSize_NamesShapesAndCountsMatchTorchvision(string name, long parameters, long runningStats)
    {
        using var json = ReadFixture($"{name}.state_dict.json");
        var reference = json.RootElement;
        Assert.Equal(parameters, reference.GetProperty("parameters").GetInt64());
        Assert.Equal(runningStats, reference.GetProperty("bn_running_stats").GetInt64());
        var want = reference.GetProperty("state_dict").EnumerateArray()
            .Select(e => (Name: e[0].GetString()!, Shape: string.Join(',', e[1].EnumerateArray().Select(d => d.GetInt64()))))
            .ToList();

        var stateDict = ModelZoo.StateDict(name);

        Assert.Equal(want, stateDict.Select(p => (p.Name, string.Join(',', p.Shape))));
        Assert.Equal(parameters, stateDict.Where(p => !p.IsBuffer).Sum(p => p.ElementCount));
        Assert.Equal(runningStats, stateDict.Where(p => p.IsBuffer).Sum(p => p.ElementCount));
    }

    // Full-size VGG is left to StateDict: filling its 553 MB takes seconds, and the test below
    // shows Build and StateDict agree on every model.
    [Theory]
    [InlineData("resnet18", 11_689_512 + 9_600)]
    [InlineData("resnet50", 25_557_032 + 53_120)]
    public void Build_FullSize_InitializersHoldEveryStateDictEntry(string name, long elements)
    {
        var model = ModelZoo.Build(name);

        AssertHoldsStateDict(model, ModelZoo.StateDict(name));
        Assert.Equal(elements, model.Graph.Initializer.Sum(t => (long)t.RawData.Length) / sizeof(float));
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Build_AnyModel_InitializersHoldEveryStateDictEntry(string name)
    {
        var options = new ZooOptions { WidthMultiplier = 1.0 / 16, Classes = 10 };

        AssertHoldsStateDict(ModelZoo.Build(name, options), ModelZoo.StateDict(name, options));
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Build_AnyModel_NodesMatchTorchOnnxExport(string name)
    {
        using var json = ReadFixture($"{name}.nodes.json");
        var want = json.RootElement.GetProperty("nodes").EnumerateArray().ToList();

        var model = ModelZoo.Build(name, new ZooOptions { WidthMultiplier = 1.0 / 16 });

        Assert.Equal(8, model.IrVersion);
        var opset = Assert.Single(model.OpsetImport);
        Assert.Equal(("", 17L), (opset.Domain, opset.Version));
        // torch's eval-mode export drops Dropout; ours keeps it in inference mode (data input only).
        var dropouts = model.Graph.Node.Where(n => n.OpType == "Dropout").ToList();
        Assert.Equal(name.StartsWith("vgg", StringComparison.Ordinal) ? 2 : 0, dropouts.Count);
        Assert.All(dropouts, d => Assert.Single(d.Input));
        var bypass = dropouts.ToDictionary(d => d.Output[0], d => d.Input[0]);
        var nodes = model.Graph.Node.Where(n => n.OpType != "Dropout").ToList();

        Assert.Equal(want.Select(w => w.GetProperty("name").GetString()), nodes.Select(n => n.Name));
        for (var i = 0; i < nodes.Count; i++)
        {
            var (node, expected) = (nodes[i], want[i]);
            Assert.Equal(expected.GetProperty("op").GetString(), node.OpType);
            Assert.Equal(Strings(expected.GetProperty("inputs")), node.Input.Select(x => bypass.GetValueOrDefault(x, x)));
            Assert.Equal(Strings(expected.GetProperty("outputs")), node.Output);
            var attributes = expected.GetProperty("attributes").EnumerateObject().ToList();
            Assert.Equal(attributes.Select(a => a.Name), node.Attribute.Select(a => a.Name));
            foreach (var (a, ours) in attributes.Zip(node.Attribute))
            {
                switch (a.Value.ValueKind)
                {
                    case JsonValueKind.Array:
                        Assert.Equal(a.Value.EnumerateArray().Select(v => v.GetInt64()), ours.Ints);
                        break;
                    case JsonValueKind.Number when a.Value.TryGetInt64(out var integer):
                        Assert.Equal(AttributeProto.Types.AttributeType.Int, ours.Type);
                        Assert.Equal(integer, ours.I);
                        break;
                    default:
                        Assert.Equal(AttributeProto.Types.AttributeType.Float, ours.Type);
                        Assert.Equal((float)a.Value.GetDouble(), ours.F);
                        break;
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Build_AnyModel_InputAndOutputAreNamedWithSymbolicBatch(string name)
    {
        var model = ModelZoo.Build(name, new ZooOptions { WidthMultiplier = 1.0 / 16, Classes = 7, InputHeight = 448, InputWidth = 224 });

        var input = Assert.Single(model.Graph.Input);
        Assert.Equal("input", input.Name);
        Assert.Equal((int)TensorProto.Types.DataType.Float, input.Type.TensorType.ElemType);
        Assert.Equal(["batch", "3", "448", "224"], input.Type.TensorType.Shape.Dim.Select(Text));
        var output = Assert.Single(model.Graph.Output);
        Assert.Equal("logits", output.Name);
        Assert.Equal(["batch", "7"], output.Type.TensorType.Shape.Dim.Select(Text));
        Assert.Equal("logits", model.Graph.Node[^1].Output[0]);
        Assert.Equal(name, model.Graph.Name);
    }

    [Theory]
    [InlineData("resnet18", 0.125, 32, 32)]
    [InlineData("resnet34", 0.125, 32, 48)]
    [InlineData("resnet50", 0.125, 32, 32)]
    [InlineData("resnet101", 0.0625, 32, 32)]
    [InlineData("vgg11", 0.0625, 224, 224)]
    [InlineData("vgg13", 0.0625, 224, 224)]
    [InlineData("vgg16", 0.0625, 224, 224)]
    [InlineData("vgg19", 0.0625, 224, 224)]
    [InlineData("vgg11", 0.0625, 448, 472)]
    public void Build_TinyModel_RunsInOnnxRuntimeWithBatchOfTwo(string name, double width, int height, int widthPixels)
    {
        var model = ModelZoo.Build(name, new ZooOptions { WidthMultiplier = width, Classes = 10, InputHeight = height, InputWidth = widthPixels, Seed = 3 });

        using var session = InferenceSession.FromBytes(model.ToByteArray());
        using var input = Tensor<float>.Create(2, 3, height, widthPixels);
        var random = new Random(5);
        foreach (ref var v in input.Span)
        {
            v = (random.NextSingle() * 2) - 1;
        }

        using var result = session.Run(input);
        var logits = result.First<float>();
        Assert.Equal([2L, 10], logits.Shape);
        var values = logits.ToArray();
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
        Assert.NotEqual(values[..10], values[10..]);
    }

    [Fact]
    public void Build_Vgg448By224_AveragePoolsFeatureMapTo7x7()
    {
        var model = ModelZoo.Build("vgg11", new ZooOptions { WidthMultiplier = 1.0 / 16, InputHeight = 448, InputWidth = 224 });

        var pool = model.Graph.Node.Single(n => n.Name == "/avgpool/AveragePool");
        Assert.Equal([2L, 1], pool.Attribute.Single(a => a.Name == "kernel_shape").Ints);
        Assert.Equal([2L, 1], pool.Attribute.Single(a => a.Name == "strides").Ints);
        Assert.Equal([256L, 32 * 7 * 7], model.Graph.Initializer.Single(t => t.Name == "classifier.0.weight").Dims);
    }

    [Fact]
    public void Build_SameSeed_IdenticalBytes()
    {
        var options = new ZooOptions { WidthMultiplier = 0.25, Seed = 42 };
        foreach (var name in new[] { "resnet50", "vgg11" })
        {
            Assert.Equal(ModelZoo.Build(name, options).ToByteArray(), ModelZoo.Build(name, options with { }).ToByteArray());
        }
    }

    [Fact]
    public void Build_DifferentSeed_DifferentRandomWeightsSameConstants()
    {
        var a = Initializers(ModelZoo.Build("resnet18", new ZooOptions { WidthMultiplier = 0.25, Seed = 1 }));
        var b = Initializers(ModelZoo.Build("resnet18", new ZooOptions { WidthMultiplier = 0.25, Seed = 2 }));

        Assert.Equal(a.Keys, b.Keys);
        foreach (var name in a.Keys)
        {
            if (name.Contains(".bn", StringComparison.Ordinal) || name.StartsWith("bn1.", StringComparison.Ordinal) || name.Contains("downsample.1", StringComparison.Ordinal))
            {
                Assert.Equal(a[name], b[name]);
            }
            else
            {
                Assert.NotEqual(a[name], b[name]);
            }
        }
    }

    [Fact]
    public void Build_OtherClassCount_OnlyTheLastLayerChanges()
    {
        var a = Initializers(ModelZoo.Build("vgg11", new ZooOptions { WidthMultiplier = 0.125, Classes = 10 }));
        var b = Initializers(ModelZoo.Build("vgg11", new ZooOptions { WidthMultiplier = 0.125, Classes = 3 }));

        foreach (var name in a.Keys.Where(k => !k.StartsWith("classifier.6.", StringComparison.Ordinal)))
        {
            Assert.Equal(a[name], b[name]);
        }

        Assert.Equal(10 * 512, a["classifier.6.weight"].Length);
        Assert.Equal(3 * 512, b["classifier.6.weight"].Length);
    }

    [Fact]
    public void Build_ResNet18_InitFollowsTorchvision()
    {
        var weights = Initializers(ModelZoo.Build("resnet18"));

        // kaiming_normal_(fan_out, relu): std √(2 / (512·3·3)); 2.4 million draws pin it to well under 1 %.
        var conv = weights["layer4.1.conv2.weight"];
        var std = Math.Sqrt(2.0 / (512 * 3 * 3));
        AssertNormal(conv, std);
        AssertNormal(weights["conv1.weight"], Math.Sqrt(2.0 / (64 * 7 * 7)), tolerance: 0.05);
        AssertNormal(weights["layer2.0.downsample.0.weight"], Math.Sqrt(2.0 / 128), tolerance: 0.05);

        // nn.Linear default: weight and bias uniform(±1/√512).
        var bound = 1 / Math.Sqrt(512);
        foreach (var fc in new[] { weights["fc.weight"], weights["fc.bias"] })
        {
            Assert.All(fc, v => Assert.InRange(v, -bound, bound));
            Assert.True(fc.Max() > 0.95 * bound && fc.Min() < -0.95 * bound, "fc values do not fill ±1/√fan_in");
        }

        Assert.InRange(StdDev(weights["fc.weight"]), 0.97 * bound / Math.Sqrt(3), 1.03 * bound / Math.Sqrt(3));
        Assert.All(weights["layer3.1.bn2.weight"], v => Assert.Equal(1f, v));
        Assert.All(weights["layer3.1.bn2.bias"], v => Assert.Equal(0f, v));
        Assert.All(weights["layer1.0.bn1.running_mean"], v => Assert.Equal(0f, v));
        Assert.All(weights["layer4.0.downsample.1.running_var"], v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Build_Vgg11_InitFollowsTorchvision()
    {
        var weights = Initializers(ModelZoo.Build("vgg11", new ZooOptions { WidthMultiplier = 0.25 }));

        AssertNormal(weights["features.18.weight"], Math.Sqrt(2.0 / (128 * 3 * 3)));
        AssertNormal(weights["classifier.0.weight"], 0.01);
        AssertNormal(weights["classifier.6.weight"], 0.01, tolerance: 0.02);
        foreach (var bias in new[] { "features.0.bias", "features.18.bias", "classifier.0.bias", "classifier.3.bias", "classifier.6.bias" })
        {
            Assert.All(weights[bias], v => Assert.Equal(0f, v));
        }
    }

    [Theory]
    [InlineData(1.0 / 16, 4, 8, 32)]
    [InlineData(0.1, 6, 13, 51)] // 6.4 → 6, 12.8 → 13, 51.2 → 51
    [InlineData(2.5 / 64, 3, 5, 20)] // 2.5 rounds away from zero
    [InlineData(1e-9, 1, 1, 1)]
    public void Build_WidthMultiplier_RoundsChannelsToNearestAtLeastOne(double width, long stem, long stage2, long stage4)
    {
        var shapes = ModelZoo.Build("resnet18", new ZooOptions { WidthMultiplier = width, Classes = 2 }).Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());

        Assert.Equal([stem, 3, 7, 7], shapes["conv1.weight"]);
        Assert.Equal([stage2, stem, 3, 3], shapes["layer2.0.conv1.weight"]);
        Assert.Equal([2, stage4], shapes["fc.weight"]);
    }

    [Fact]
    public void Build_VggWidthMultiplier_ScalesHiddenLayers()
    {
        var shapes = ModelZoo.Build("vgg16", new ZooOptions { WidthMultiplier = 1.0 / 32, Classes = 5 }).Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());

        Assert.Equal([2L, 3, 3, 3], shapes["features.0.weight"]);
        Assert.Equal([128L, 16 * 7 * 7], shapes["classifier.0.weight"]);
        Assert.Equal([128L, 128], shapes["classifier.3.weight"]);
        Assert.Equal([5L, 128], shapes["classifier.6.weight"]);
    }

    [Fact]
    public void Build_NameInAnyCase_IsTorchvisionsModel()
    {
        Assert.Equal("resnet18", ModelZoo.Build("ResNet18", new ZooOptions { WidthMultiplier = 1.0 / 16 }).Graph.Name);
    }

    [Fact]
    public void Build_UnknownName_ListsKnownModels()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Build("resnet152"));
        Assert.Equal("Unknown model 'resnet152'; known models: vgg11, vgg13, vgg16, vgg19, resnet18, resnet34, resnet50, resnet101. (Parameter 'name')", e.Message);
        Assert.Equal(e.Message, Assert.Throws<ArgumentException>(() => ModelZoo.StateDict("resnet152")).Message);
        Assert.Throws<ArgumentNullException>(() => ModelZoo.Build(null!));
    }

    [Theory]
    [InlineData(0, 1.0, 224, 224, "ZooOptions.Classes must be at least 1, got 0.")]
    [InlineData(10, 0.0, 224, 224, "ZooOptions.WidthMultiplier must be a positive finite number, got 0.")]
    [InlineData(10, -0.5, 224, 224, "ZooOptions.WidthMultiplier must be a positive finite number, got -0.5.")]
    [InlineData(10, double.NaN, 224, 224, "ZooOptions.WidthMultiplier must be a positive finite number, got NaN.")]
    [InlineData(10, double.PositiveInfinity, 224, 224, "ZooOptions.WidthMultiplier must be a positive finite number, got Infinity.")]
    [InlineData(10, 1.0, 0, 224, "ZooOptions.InputHeight must be at least 1, got 0.")]
    [InlineData(10, 1.0, 224, -3, "ZooOptions.InputWidth must be at least 1, got -3.")]
    [InlineData(10, 1e12, 224, 224, "ZooOptions.WidthMultiplier 1000000000000 makes a layer of 64 channels 64000000000000 wide, which is too large.")]
    [InlineData(10, 1000.0, 224, 224, "ZooOptions (Classes 10, WidthMultiplier 1000) make 'layer1.0.conv1.weight' [64000,64000,3,3] larger than one array can hold.")]
    public void Build_BadOptions_NameTheOption(int classes, double width, int height, int widthPixels, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Build("resnet18", new ZooOptions { Classes = classes, WidthMultiplier = width, InputHeight = height, InputWidth = widthPixels }));
        Assert.Equal(message + " (Parameter 'options')", e.Message);
    }

    [Theory]
    [InlineData(32, 32, "1×1")]
    [InlineData(224, 256, "7×8")]
    [InlineData(192, 224, "6×7")]
    public void Build_VggInputWithoutA7x7Multiple_NamesTheInputSize(int height, int width, string map)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Build("vgg16", new ZooOptions { InputHeight = height, InputWidth = width }));
        Assert.Equal(
            "vgg16 needs an input whose feature map after its five 2×2 max pools is 7×7 or a multiple of 7 per side " +
            "(224 to 255 or 448 to 479 pixels, …), so that AdaptiveAvgPool2d((7, 7)) is an AveragePool; " +
            $"input {height}×{width} gives a {map} map. (Parameter 'options')",
            e.Message);
    }

    private static void AssertHoldsStateDict(ModelProto model, IReadOnlyList<ZooParameter> stateDict)
    {
        var initializers = model.Graph.Initializer;
        Assert.Equal(stateDict.Select(p => (p.Name, string.Join(',', p.Shape))), initializers.Select(t => (t.Name, string.Join(',', t.Dims))));
        Assert.All(initializers.Zip(stateDict), pair =>
        {
            Assert.Equal((int)TensorProto.Types.DataType.Float, pair.First.DataType);
            Assert.Equal(pair.Second.ElementCount * sizeof(float), pair.First.RawData.Length);
        });
        Assert.DoesNotContain(initializers, t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal));
        Assert.Equal(["input"], model.Graph.Input.Select(i => i.Name));
    }

    private static JsonDocument ReadFixture(string file) => JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("zoo", file)));

    private static IEnumerable<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!);

    private static string Text(TensorShapeProto.Types.Dimension d) => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Dictionary<string, float[]> Initializers(ModelProto model) =>
        model.Graph.Initializer.ToDictionary(t => t.Name, t => MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray());

    private static double StdDev(float[] values)
    {
        var mean = values.Average(v => (double)v);
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }

    /// <summary>Mean 0, standard deviation within <paramref name="tolerance"/> of <paramref name="std"/>, and a normal's 68 % within one σ.</summary>
    private static void AssertNormal(float[] values, double std, double tolerance = 0.01)
    {
        // The sample mean's own spread is std/√n: allow five of those.
        var mean = values.Average(v => (double)v);
        var meanBound = 5 * std / Math.Sqrt(values.Length);
        Assert.InRange(mean, -meanBound, meanBound);
        Assert.InRange(StdDev(values), (1 - tolerance) * std, (1 + tolerance) * std);
        var withinOne = values.Count(v => Math.Abs(v) <= std) / (double)values.Length;
        Assert.InRange(withinOne, 0.6827 - (tolerance * 2), 0.6827 + (tolerance * 2));
    }
}

using System.Runtime.InteropServices;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

public class MoreEditTests
{
    private static OnnxModel Tiny() => OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));

    [Theory]
    [InlineData("scale=1/255,mean=0.485:0.456:0.406,std=0.229:0.224:0.225")]
    [InlineData("caffe")]
    [InlineData("inception")]
    public void PrependPreprocess_Uint8Image_SameLogitsAsManualPreprocessing(string specText)
    {
        var spec = PreprocessSpec.Parse(specText);
        var model = Tiny();
        var baked = PrependPreprocessEdit.Apply(model, spec);
        var random = new Random(4);
        using var image = Tensor<byte>.Create(2, 32, 32, 3);
        random.NextBytes(image.Span);

        // Manual: HWC uint8 RGB -> (reorder) -> (x*scale-mean)/std -> NCHW float.
        using var manual = Tensor<float>.Create(2, 3, 32, 32);
        for (var n = 0; n < 2; n++)
        {
            for (var y = 0; y < 32; y++)
            {
                for (var x = 0; x < 32; x++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        var source = spec.Bgr ? 2 - c : c;
                        var v = image.Span[(((n * 32) + y) * 32 * 3) + (x * 3) + source];
                        manual.Span[(((n * 3) + c) * 32 * 32) + (y * 32) + x] = ((v * spec.Scale) - spec.Mean[c]) / spec.Std[c];
                    }
                }
            }
        }

        using var plain = InferenceSession.FromBytes(model.ToBytes());
        using var bakedSession = InferenceSession.FromBytes(baked.ToBytes());
        Assert.Equal(TensorElementType.UInt8, bakedSession.Inputs[0].ElementType);
        Assert.Equal("input", bakedSession.Inputs[0].Name);
        Assert.Equal("[batch,32,32,3]", bakedSession.Inputs[0].ShapeText);
        using var expected = plain.Run(manual);
        using var actual = bakedSession.Run(image);
        Assert.Equal(expected.First<float>().ToArray(), actual.First<float>().ToArray(), new FloatTolerance(1e-4f));
        Assert.Contains(baked.Proto.MetadataProps, p => p.Key == PrependPreprocessEdit.InputMetadataKey);
    }

    [Fact]
    public void PrependPreprocess_WithResize_AcceptsAnyImageSize()
    {
        var fixedModel = Tiny();
        var baked = PrependPreprocessEdit.Apply(fixedModel, PreprocessSpec.Parse("resize=32x32,scale=1/255"));
        using var session = InferenceSession.FromBytes(baked.ToBytes());
        Assert.Equal("[batch,height,width,3]", session.Inputs[0].ShapeText);
        using var image = Tensor<byte>.Filled(128, 1, 48, 40, 3);
        using var result = session.Run(image);
        Assert.Equal([1L, 10], result.First<float>().Shape);
    }

    [Fact]
    public void PrependPreprocess_ShorterSideResize_IsRefusedWithReason()
    {
        var e = Assert.Throws<InvalidOperationException>(() => PrependPreprocessEdit.Apply(Tiny(), PreprocessSpec.ImageNet));
        Assert.StartsWith("prepend-preprocess supports resize=HxW or no resize;", e.Message);
        var mismatch = Assert.Throws<InvalidOperationException>(() => PrependPreprocessEdit.Apply(Tiny(), PreprocessSpec.Parse("resize=64x64")));
        Assert.Equal("resize=64x64 does not match input 'input' [batch,3,32,32].", mismatch.Message);
    }

    [Fact]
    public void PrependPreprocess_TextLine_IsRefusedBecauseItsWidthDependsOnTheImage()
    {
        var e = Assert.Throws<InvalidOperationException>(() => PrependPreprocessEdit.Apply(Tiny(), PreprocessSpec.Parse("textline=32x32")));
        Assert.Contains("shorter-side resize, fit, textline and crop depend on each image's size", e.Message);
    }

    [Fact]
    public void Reinit_ParametersFollowTorchDefaults_AndModelStillRuns()
    {
        var (model, report) = Reinitializer.Reinitialize(Fixtures.Model("torchvision_style"), seed: 3);
        Assert.True(report.Tensors > 5);
        var graph = new OnnxGraph(model.Graph);
        foreach (var node in model.Graph.Node.Where(n => n.OpType is "Conv" or "Gemm"))
        {
            var w = TensorData.FromProto(graph.ConstantOf(node.Input[1])!);
            var fanIn = w.Dims.Skip(1).Aggregate(1L, (a, b) => a * b);
            var bound = 1 / Math.Sqrt(fanIn);
            var values = MemoryMarshal.Cast<byte, float>(w.Bytes).ToArray();
            Assert.All(values, v => Assert.InRange(v, -bound - 1e-7, bound + 1e-7));
        }

        foreach (var node in model.Graph.Node.Where(n => n.OpType == "BatchNormalization"))
        {
            Assert.All(MemoryMarshal.Cast<byte, float>(TensorData.FromProto(graph.ConstantOf(node.Input[4])!).Bytes).ToArray(), v => Assert.Equal(1f, v));
            Assert.All(MemoryMarshal.Cast<byte, float>(TensorData.FromProto(graph.ConstantOf(node.Input[3])!).Bytes).ToArray(), v => Assert.Equal(0f, v));
        }

        using var input = Fixtures.Input("torchvision_style");
        var (shape, values2) = Fixtures.Run(model, input);
        Assert.Equal([2L, 10], shape);
        Assert.NotEqual(Fixtures.Expected("torchvision_style"), values2, new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Trainable_HeadOnly_IsTheDenseLayer_BoundaryIsItsInput()
    {
        var selection = Trainable.HeadOnly(Fixtures.Model("paddle_style"));
        Assert.Equal(2, selection.Parameters.Count);
        Assert.Equal(["MatMul", "Add", "Softmax"], selection.Region.Select(n => n.OpType));
        Assert.Single(selection.Boundary);
    }

    [Fact]
    public void Trainable_Downstream_CoversEverythingAfterTheTensor()
    {
        var model = Tiny();
        var lastConv = model.Graph.Node.Last(n => n.OpType == "Conv");
        var tensor = lastConv.Input[0];
        var selection = Trainable.Downstream(model, tensor);
        Assert.Contains(selection.Region, n => ReferenceEquals(n, lastConv) || n.Name == lastConv.Name);
        Assert.Contains(tensor, selection.Boundary);
        var all = ModelSummary.Create(model).TrainableParams;
        Assert.InRange(selection.CountElements(model), 1, all - 1);
    }

    [Fact]
    public void Trainable_Globs_MatchInitializerOrNodeNames()
    {
        var model = Fixtures.Model("keras_nhwc");
        var byInitializer = Trainable.ByGlobs(model, ["sequential/dense/*"]);
        Assert.All(byInitializer.Parameters, p => Assert.StartsWith("sequential/dense/", p));
        var byNode = Trainable.ByGlobs(model, ["sequential/conv2d_1/*"]);
        Assert.NotEmpty(byNode.Parameters);
        var e = Assert.Throws<InvalidOperationException>(() => Trainable.ByGlobs(model, ["nothing*"]));
        Assert.Equal("no parameter or node name matches 'nothing*'.", e.Message);
    }
}

public class Vgg16ConvBaseTests
{
    /// <summary>
    /// MISSION's reference numbers on the torchvision-faithful VGG16 builder: the conv base (cut
    /// after the last MaxPool) has 14,714,688 parameters and gives 4×4×512 at 150×150 input.
    /// </summary>
    [Fact]
    public void Cut_Vgg16AfterLastMaxPool_Has14714688Params_And4x4x512At150()
    {
        var vgg = new OnnxModel(Zoo.ModelZoo.Build("vgg16"));
        Assert.Equal(138_357_544, ModelSummary.Create(vgg).TotalParams);
        var lastPool = vgg.Graph.Node.Last(n => n.OpType == "MaxPool").Output[0];
        var conv = Edits.GraphEdits.Cut(vgg, lastPool);
        var summary = ModelSummary.Create(conv, new Dictionary<string, long[]> { ["input"] = [1, 3, 150, 150] });
        Assert.Equal(14_714_688, summary.TotalParams);
        Assert.Equal("[1,512,4,4]", summary.Outputs[0].Shape.ToString());
    }
}

public class OpsetUpgradeTests
{
    [Fact]
    public void Upgrade_PaddleOpset9To17_SameOutputs()
    {
        var model = Fixtures.Model("paddle_style");
        Assert.Equal(9, model.Opset);
        var upgraded = Edits.OpsetUpgrade.Upgrade(model, 17);
        Assert.Equal(17, upgraded.Opset);
        using var input = Fixtures.Input("paddle_style");
        var (_, values) = Fixtures.Run(upgraded, input);
        Assert.Equal(Fixtures.Expected("paddle_style"), values, new FloatTolerance(1e-5f));
    }

    [Fact]
    public void Upgrade_UnknownChangedOperator_IsRefusedByName()
    {
        var b = new TestUtilities.ModelBuilder(opset: 9)
            .Input("x", Proto.TensorProto.Types.DataType.Float, 1, 4)
            .Node("TopK", ["x"], ["v", "i"], TestUtilities.ModelBuilder.Int("k", 2))
            .Output("v", Proto.TensorProto.Types.DataType.Float, 1, 2);
        var e = Assert.Throws<InvalidOperationException>(() => Edits.OpsetUpgrade.Upgrade(OnnxModel.Load(b.ToBytes())));
        Assert.Equal("cannot raise the opset of 'TopK_0' (TopK) from 9: it is not in the operator set OnnxCnn upgrades.", e.Message);
    }
}

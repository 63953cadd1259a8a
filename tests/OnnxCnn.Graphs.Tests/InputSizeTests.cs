using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Graphs.Zoo;
using OnnxCnn.Runtime;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

/// <summary><see cref="GraphEdits.SetInputSize"/> and <see cref="GraphEdits.FreeInputSize"/>.</summary>
public class InputSizeTests
{
    private const TensorProto.Types.DataType Float = TensorProto.Types.DataType.Float;

    private static OnnxModel Vgg16(double width = 1.0 / 16) =>
        new(ModelZoo.Build("vgg16", new ZooOptions { WidthMultiplier = width }));

    private static OnnxModel Vgg16Base(double width = 1.0 / 16)
    {
        var vgg = Vgg16(width);
        return GraphEdits.Cut(vgg, vgg.Graph.Node.Last(n => n.OpType == "MaxPool").Output[0]);
    }

    private static Tensor<float> Input(params long[] shape)
    {
        var t = Tensor<float>.Create(shape);
        var random = new Random(5);
        foreach (ref var v in t.Span)
        {
            v = random.NextSingle();
        }

        return t;
    }

    [Fact]
    public void SetInputSize_Vgg16BaseFrom224_RunsAt150AndGives4x4()
    {
        var base150 = GraphEdits.SetInputSize(Vgg16Base(), 150, 150);
        Assert.Equal("[batch,3,150,150]", ShapeInference.FromValueInfo(base150.Graph.Input[0]).ToString());
        Assert.Equal("[batch,32,4,4]", ShapeInference.FromValueInfo(base150.Graph.Output[0]).ToString());
        using var input = Input(2, 3, 150, 150);
        Assert.Equal([2, 32, 4, 4], Fixtures.Run(base150, input).Shape);
    }

    [Fact]
    public void FreeInputSize_Vgg16Base_SymbolicAndRunsAtTwoSizes()
    {
        var free = GraphEdits.FreeInputSize(Vgg16Base());
        Assert.Equal("[batch,3,height,width]", ShapeInference.FromValueInfo(free.Graph.Input[0]).ToString());
        Assert.Empty(free.Graph.ValueInfo);
        using var small = Input(1, 3, 96, 64);
        Assert.Equal([1, 32, 3, 2], Fixtures.Run(free, small).Shape);
        using var large = Input(1, 3, 150, 150);
        Assert.Equal([1, 32, 4, 4], Fixtures.Run(free, large).Shape);
    }

    [Fact]
    public void SetInputSize_FullVgg16_RefusesTheClassifierAndNamesTheFix()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.SetInputSize(Vgg16(), 150, 150));
        Assert.Equal("cannot change the input size: Gemm '/classifier/classifier.0/Gemm' has a constant weight for 1568 input features but would get 512 at 150x150; " +
            "the graph is bound to the size it was exported at (cut the model before that node with 'onnxcnn graph cut MODEL --at TENSOR' and put a new head on the cut model).", e.Message);
        var d = Assert.Throws<InvalidOperationException>(() => GraphEdits.FreeInputSize(Vgg16()));
        Assert.Contains("when freed, e.g. at 256x256", d.Message);
    }

    [Fact]
    public void SetInputSize_ConstantReshapeAfterConvs_IsRefused()
    {
        var b = new ModelBuilder()
            .Input("x", Float, "N", 3, 8, 8)
            .Initializer("w", Enumerable.Repeat(0.1f, 2 * 3 * 9).ToArray(), 2, 3, 3, 3)
            .Initializer("shape", [-1L, 2 * 6 * 6], 2)
            .Node("Conv", ["x", "w"], ["c"], ModelBuilder.Ints("kernel_shape", 3, 3))
            .Node("Reshape", ["c", "shape"], ["y"])
            .Output("y", Float, "N", 72);
        var model = OnnxModel.Load(b.ToBytes());
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.SetInputSize(model, 9, 9));
        Assert.StartsWith("cannot change the input size: Reshape 'Reshape_1' has the constant target shape [-1,72], which cannot hold its input [N,2,7,7] at 9x9;", e.Message);

        // The size it bakes in is accepted.
        Assert.Equal("[N,72]", ShapeInference.FromValueInfo(GraphEdits.SetInputSize(model, 8, 8).Graph.Output[0]).ToString());
    }

    [Fact]
    public void SetInputSize_MeanImageBroadcast_IsRefused()
    {
        // ML.NET's ResNet preprocessing subtracts a 1×3×H×W mean image.
        var b = new ModelBuilder()
            .Input("x", Float, 1, 3, 4, 4)
            .Initializer("mean", new float[48], 1, 3, 4, 4)
            .Node("Sub", ["x", "mean"], ["y"])
            .Output("y", Float, 1, 3, 4, 4);
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.SetInputSize(OnnxModel.Load(b.ToBytes()), 6, 6));
        Assert.StartsWith("cannot change the input size: Sub 'Sub_0' broadcasts [1,3,6,6] with [1,3,4,4], which do not match at 6x6;", e.Message);
    }

    [Fact]
    public void SetInputSize_TooSmallForAPool_IsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.SetInputSize(Vgg16Base(), 16, 16));
        Assert.Equal("cannot change the input size: MaxPool '/features/features.30/MaxPool' would output [batch,32,0,0] at 16x16 (the input is too small for it).", e.Message);
    }

    [Fact]
    public void SetInputSize_NhwcInput_SetsAxes1And2()
    {
        var model = Fixtures.Model("keras_nhwc");
        var before = ShapeInference.FromValueInfo(model.Graph.Input[0]);
        Assert.Equal(3, before.Dims![3].Value);
        var resized = GraphEdits.FreeInputSize(model);
        var after = ShapeInference.FromValueInfo(resized.Graph.Input[0]);
        Assert.Equal(["height", "width"], after.Dims![1..3].Select(d => d.Symbol));
    }

    [Fact]
    public void SetInputSize_BadArguments_AreRefused()
    {
        Assert.Equal("the input size must be at least 1x1, got 0x5.", Assert.Throws<ArgumentException>(() => GraphEdits.SetInputSize(Vgg16Base(), 0, 5)).Message);
        var e = Assert.Throws<InvalidOperationException>(() => GraphEdits.SetInputSize(Vgg16Base(), 64, 64, "nope"));
        Assert.Equal("model has no input 'nope'; its inputs are: input.", e.Message);
        var flat = new ModelBuilder().Input("x", Float, 1, 8).Node("Relu", ["x"], ["y"]).Output("y", Float, 1, 8);
        var f = Assert.Throws<InvalidOperationException>(() => GraphEdits.SetInputSize(OnnxModel.Load(flat.ToBytes()), 4, 4));
        Assert.Equal("input 'x' has shape [1,8], not an image batch [N,C,H,W] or [N,H,W,C].", f.Message);
    }
}

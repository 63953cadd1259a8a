using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Zoo;
using OnnxCnn.Runtime;

namespace OnnxCnn.Graphs.Tests;

/// <summary>A new head on a backbone without a classifier: pooled features, 1×1 maps and feature maps.</summary>
public class HeadOnBackboneTests
{
    private static OnnxModel Vgg16Base(double width, int size = 224)
    {
        var vgg = new OnnxModel(ModelZoo.Build("vgg16", new ZooOptions { WidthMultiplier = width, InputHeight = size, InputWidth = size }));
        return GraphEdits.Cut(vgg, vgg.Graph.Node.Last(n => n.OpType == "MaxPool").Output[0]);
    }

    private static Tensor<float> Ones(params long[] shape)
    {
        var t = Tensor<float>.Create(shape);
        t.Span.Fill(0.5f);
        return t;
    }

    /// <summary>The Keras recipe at full size: VGG16's conv base at 150×150, Flatten, Dense(256), Dense(1).</summary>
    [Fact]
    public void Replace_Vgg16BaseAt150FlattenHidden256OneUnit_Has16812353Params()
    {
        var base150 = GraphEdits.SetInputSize(Vgg16Base(1.0), 150, 150);
        Assert.Equal(14_714_688, ModelSummary.Create(base150).TotalParams);
        Assert.Equal("[batch,512,4,4]", ModelSummary.Create(base150).Outputs[0].Shape.ToString());
        var headed = HeadEdits.Replace(base150, new HeadSpec { Classes = 1, Hidden = [256], Pool = HeadPool.Flatten, Seed = 1 });
        var summary = ModelSummary.Create(headed);
        Assert.Equal(16_812_353, summary.TotalParams);
        Assert.Equal("[batch,1]", summary.Outputs[0].Shape.ToString());
        Assert.Equal(["Flatten", "Gemm", "Relu", "Gemm"], headed.Graph.Node.TakeLast(4).Select(n => n.OpType));
    }

    [Fact]
    public void Replace_FeatureMapFlattenAtReducedWidth_RunsInOrt()
    {
        var base150 = GraphEdits.SetInputSize(Vgg16Base(1.0 / 16), 150, 150);
        var headed = HeadEdits.Replace(base150, new HeadSpec { Classes = 3, Hidden = [8], Dropout = 0.5f, Pool = HeadPool.Flatten, Seed = 2 });
        using var input = Ones(2, 3, 150, 150);
        var (shape, values) = Fixtures.Run(headed, input);
        Assert.Equal([2, 3], shape);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));

        // 32 channels × 4 × 4 features into the hidden layer.
        Assert.Equal([8, 32 * 4 * 4], headed.Graph.Initializer.First(t => t.Name == "head.0.weight").Dims);
    }

    [Fact]
    public void Replace_FeatureMapGap_PoolsToChannelsAtAnySize()
    {
        var dynamic = GraphEdits.FreeInputSize(Vgg16Base(1.0 / 16));
        var headed = HeadEdits.Replace(dynamic, new HeadSpec { Classes = 4, Pool = HeadPool.GlobalAverage });
        Assert.Equal([4, 32], headed.Graph.Initializer.First(t => t.Name == "head.0.weight").Dims);
        foreach (var size in new[] { 64, 100 })
        {
            using var input = Ones(1, 3, size, size);
            Assert.Equal([1, 4], Fixtures.Run(headed, input).Shape);
        }
    }

    [Fact]
    public void Replace_PooledFeatures_AddsDenseHeadOnThem()
    {
        var resnet = new OnnxModel(ModelZoo.Build("resnet18", new ZooOptions { WidthMultiplier = 1.0 / 16, InputHeight = 64, InputWidth = 64 }));
        var features = resnet.Graph.Node.First(n => n.OpType == "GlobalAveragePool").Input[0];
        var pooled = GraphEdits.Cut(resnet, features, globalPool: true);
        Assert.Null(HeadEdits.Find(pooled, out _));
        var headed = HeadEdits.Replace(pooled, new HeadSpec { Classes = 5, Seed = 3 });
        Assert.NotNull(HeadEdits.Find(headed, out _));
        using var input = Ones(2, 3, 64, 64);
        Assert.Equal([2, 5], Fixtures.Run(headed, input).Shape);
    }

    [Fact]
    public void Replace_OneByOneMap_FlattensWithoutAskingForAPool()
    {
        // Like ML.NET's ResNet-18 featurizer: it ends in an AveragePool to [1,512,1,1].
        var b = new TestUtilities.ModelBuilder()
            .Input("x", Proto.TensorProto.Types.DataType.Float, 1, 3, 8, 8)
            .Initializer("w", Enumerable.Repeat(0.1f, 6 * 3 * 9).ToArray(), 6, 3, 3, 3)
            .Node("Conv", ["x", "w"], ["c"], TestUtilities.ModelBuilder.Ints("kernel_shape", 3, 3))
            .Node("AveragePool", ["c"], ["p"], TestUtilities.ModelBuilder.Ints("kernel_shape", 6, 6))
            .Output("p", Proto.TensorProto.Types.DataType.Float, 1, 6, 1, 1);
        var headed = HeadEdits.Replace(OnnxModel.Load(b.ToBytes()), new HeadSpec { Classes = 2 });
        Assert.Equal("logits", headed.Graph.Output[0].Name);
        using var input = Ones(1, 3, 8, 8);
        Assert.Equal([1, 2], Fixtures.Run(headed, input).Shape);
    }

    [Fact]
    public void Replace_FeatureMapWithoutPool_NamesBothPoolsAndBothWork()
    {
        var base150 = GraphEdits.SetInputSize(Vgg16Base(1.0 / 16), 150, 150);
        var e = Assert.Throws<ArgumentException>(() => HeadEdits.Replace(base150, new HeadSpec { Classes = 2 }));
        Assert.Equal("cannot put a head on this model: its output '/features/features.30/MaxPool_output_0' is a feature map [batch,32,4,4]; " +
            "choose how it becomes features: --pool gap (global average, 32 features) or --pool flatten (C·H·W features).", e.Message);
        foreach (var pool in new[] { HeadPool.GlobalAverage, HeadPool.Flatten })
        {
            Assert.NotNull(HeadEdits.Find(HeadEdits.Replace(base150, new HeadSpec { Classes = 2, Pool = pool }), out _));
        }
    }

    [Fact]
    public void Replace_FlattenOfUnknownSize_RecommendsInputSizeWhichThenWorks()
    {
        var dynamic = GraphEdits.FreeInputSize(Vgg16Base(1.0 / 16));
        var e = Assert.Throws<InvalidOperationException>(() => HeadEdits.Replace(dynamic, new HeadSpec { Classes = 2, Pool = HeadPool.Flatten }));
        Assert.Contains("fix the input size first ('onnxcnn graph input-size MODEL --size HxW') or use --pool gap", e.Message);
        var sized = GraphEdits.SetInputSize(dynamic, 150, 150);
        var headed = HeadEdits.Replace(sized, new HeadSpec { Classes = 2, Pool = HeadPool.Flatten });
        Assert.Equal([2, 32 * 4 * 4], headed.Graph.Initializer.First(t => t.Name == "head.0.weight").Dims);
    }

    [Fact]
    public void Replace_PoolOnModelWithClassifier_IsRefused()
    {
        var vgg = new OnnxModel(ModelZoo.Build("vgg11", new ZooOptions { WidthMultiplier = 1.0 / 16 }));
        var e = Assert.Throws<ArgumentException>(() => HeadEdits.Replace(vgg, new HeadSpec { Classes = 2, Pool = HeadPool.GlobalAverage }));
        Assert.StartsWith("--pool gap applies to a backbone that ends in a feature map; this model has a classifier head", e.Message);
    }

    [Fact]
    public void Replace_OutputOfOtherRank_SaysWhyWithoutRecommendingAStep()
    {
        var b = new TestUtilities.ModelBuilder()
            .Input("x", Proto.TensorProto.Types.DataType.Float, 1, 3, 8)
            .Node("Relu", ["x"], ["y"])
            .Output("y", Proto.TensorProto.Types.DataType.Float, 1, 3, 8);
        var e = Assert.Throws<InvalidOperationException>(() => HeadEdits.Replace(OnnxModel.Load(b.ToBytes()), new HeadSpec { Classes = 2 }));
        Assert.Equal("cannot put a head on this model: it has no classifier head to replace (output 'y' comes from Relu 'Relu_0', not from a dense layer " +
            "(Gemm, or MatMul with an optional bias Add)), and its output has shape [1,3,8], neither pooled features [N,C] nor a feature map [N,C,H,W] with a known C.", e.Message);
    }
}

using OnnxCnn.TestUtilities;

namespace OnnxCnn.Graphs.Tests;

public class SummaryTests
{
    [Theory]
    [InlineData("torchvision_style")]
    [InlineData("keras_nhwc")]
    [InlineData("paddle_style")]
    [InlineData("ppocr_cls")]
    public void Summary_RealWorldGraph_TotalsEqualIndependentCount(string fixture)
    {
        var reference = Fixtures.Reference(fixture);
        var summary = ModelSummary.Create(Fixtures.Model(fixture));
        Assert.Equal(reference.GetProperty("totalParams").GetInt64(), summary.TotalParams);
        Assert.Equal(reference.GetProperty("trainableParams").GetInt64(), summary.TrainableParams);
        Assert.Equal(reference.GetProperty("nonTrainableParams").GetInt64(), summary.NonTrainableParams);
        var byNode = summary.Layers.ToDictionary(l => l.Name, l => l.Params);
        foreach (var row in reference.GetProperty("paramsByNode").EnumerateArray())
        {
            var node = row.GetProperty("node").GetString()!;
            Assert.True(byNode.TryGetValue(node, out var ours), $"{fixture}: node {node} missing from the summary");
            Assert.Equal(row.GetProperty("params").GetInt64(), ours);
        }
    }

    [Theory]
    [InlineData("torchvision_style")]
    [InlineData("keras_nhwc")]
    [InlineData("paddle_style")]
    [InlineData("ppocr_cls")]
    public void ShapeInference_RealWorldGraph_MatchesOnnxAndExecution(string fixture)
    {
        var reference = Fixtures.Reference(fixture);
        var shapes = ShapeInference.Infer(Fixtures.Model(fixture));
        var compared = 0;
        foreach (var property in new[] { "outputShapes", "outputShapesExecuted" })
        {
            if (!reference.TryGetProperty(property, out var map) || map.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                continue;
            }

            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != System.Text.Json.JsonValueKind.Array)
                {
                    continue;
                }

                var expected = "[" + string.Join(",", entry.Value.EnumerateArray().Select(d => d.ValueKind == System.Text.Json.JsonValueKind.Number ? d.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) : d.GetString())) + "]";
                Assert.True(expected == shapes[entry.Name].ToString(), $"{fixture}: {entry.Name} inferred {shapes[entry.Name]}, expected {expected}");
                compared++;
            }
        }

        Assert.True(compared > 10, $"only {compared} shapes compared");
    }

    [Fact]
    public void Summary_TorchvisionStyle_SharedInitializerCountsOncePerNode()
    {
        // Two convs use the same weight through an Identity: the convention counts it for both.
        var summary = ModelSummary.Create(Fixtures.Model("torchvision_style"));
        var convs = summary.Layers.Where(l => l.Op == "Conv").ToList();
        Assert.True(convs.Count >= 2);
        Assert.DoesNotContain(summary.Layers, l => l.Op == "Identity");
    }

    [Fact]
    public void Summary_Text_HasKerasTotals()
    {
        var text = ModelSummary.Create(Fixtures.Model("keras_nhwc")).ToText();
        Assert.Contains("Layer (type)", text);
        Assert.Contains("Total params: 1,477", text);
        Assert.Contains("Non-trainable params: 0", text);
    }

    [Fact]
    public void Summary_InputShapeOverride_ChangesSpatialShapes()
    {
        var model = OnnxModel.Load(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        var at64 = ModelSummary.Create(model, new Dictionary<string, long[]> { ["input"] = [1, 3, 64, 64] });
        Assert.Equal("[1,8,32,32]", at64.Layers[0].OutputShape.ToString());
        Assert.Equal("[1,10]", at64.Outputs[0].Shape.ToString());
    }
}

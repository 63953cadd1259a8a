using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Zoo.Internal;

/// <summary>torchvision's VGG without batch normalisation (configurations A, B, D, E).</summary>
internal static class Vgg
{
    private const int Pool = 0;

    /// <summary>Output channels of each 3×3 conv, <see cref="Pool"/> for a 2×2 max pool (torchvision's <c>cfgs</c>).</summary>
    public static int[] Config(string name) => name switch
    {
        "vgg11" => [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        "vgg13" => [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        "vgg16" => [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool],
        "vgg19" => [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512, Pool],
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a VGG"),
    };

    /// <summary>
    /// features (Conv-ReLU…, MaxPool), avgpool = AdaptiveAvgPool2d((7, 7)), flatten, classifier
    /// Linear(512·7·7, 4096)-ReLU-Dropout-Linear(4096, 4096)-ReLU-Dropout-Linear(4096, classes).
    /// </summary>
    public static ModelProto Build(string name, ZooOptions options, bool withWeights)
    {
        // The pools halve with floor five times; the adaptive pool to 7×7 is an AveragePool only
        // when that map is a whole multiple of 7 (torch.onnx.export refuses the other sizes too).
        var (mapHeight, mapWidth) = (options.InputHeight / 32, options.InputWidth / 32);
        if (mapHeight == 0 || mapWidth == 0 || mapHeight % 7 != 0 || mapWidth % 7 != 0)
        {
            throw new ArgumentException(
                $"{name} needs an input whose feature map after its five 2×2 max pools is 7×7 or a multiple of 7 per side " +
                $"(224 to 255 or 448 to 479 pixels, …), so that AdaptiveAvgPool2d((7, 7)) is an AveragePool; " +
                $"input {options.InputHeight}×{options.InputWidth} gives a {mapHeight}×{mapWidth} map.", "options");
        }

        var g = new ZooGraph(name, options, withWeights);
        var x = ZooGraph.InputName;
        var channels = 3L;
        var index = 0;
        foreach (var width in Config(name))
        {
            if (width == Pool)
            {
                x = g.MaxPool($"/features/features.{index}", x, 2, 2, 0);
                index++;
                continue;
            }

            var outChannels = g.Scale(width);
            x = g.Conv($"/features/features.{index}", $"features.{index}", x, channels, outChannels, 3, 1, 1, bias: true);
            x = g.Relu($"/features/features.{index + 1}", x);
            channels = outChannels;
            index += 2;
        }

        x = g.AveragePool("/avgpool", x, mapHeight / 7, mapWidth / 7);
        x = g.Flatten("", x);
        var hidden = g.Scale(4096);
        var linear = WeightInit.Normal(0.01);
        var zero = WeightInit.Constant(0);
        x = g.Linear("/classifier/classifier.0", "classifier.0", x, channels * 7 * 7, hidden, linear, zero);
        x = g.Relu("/classifier/classifier.1", x);
        x = g.Dropout("/classifier/classifier.2", x);
        x = g.Linear("/classifier/classifier.3", "classifier.3", x, hidden, hidden, linear, zero);
        x = g.Relu("/classifier/classifier.4", x);
        x = g.Dropout("/classifier/classifier.5", x);
        g.Linear("/classifier/classifier.6", "classifier.6", x, hidden, options.Classes, linear, zero);
        return g.ToModel($"torchvision {name} (no batch norm), seeded init: conv kaiming_normal_(fan_out, relu), bias 0; linear normal(0, 0.01), bias 0.");
    }
}

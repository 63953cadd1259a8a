using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Zoo.Internal;

/// <summary>torchvision's ResNet (v1.5: a bottleneck strides on its 3×3 conv).</summary>
internal static class ResNet
{
    private static readonly int[] StageWidths = [64, 128, 256, 512];

    /// <summary>Blocks per stage and whether they are bottlenecks.</summary>
    public static (int[] Blocks, bool Bottleneck) Config(string name) => name switch
    {
        "resnet18" => ([2, 2, 2, 2], false),
        "resnet34" => ([3, 4, 6, 3], false),
        "resnet50" => ([3, 4, 6, 3], true),
        "resnet101" => ([3, 4, 23, 3], true),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a ResNet"),
    };

    /// <summary>conv1-bn1-relu-maxpool, layer1…layer4, avgpool (global), flatten, fc.</summary>
    public static ModelProto Build(string name, ZooOptions options, bool withWeights)
    {
        var (blocks, bottleneck) = Config(name);
        var expansion = bottleneck ? 4 : 1;
        var g = new ZooGraph(name, options, withWeights);
        var inplanes = g.Scale(64);
        var x = g.Conv("/conv1", "conv1", ZooGraph.InputName, 3, inplanes, 7, 2, 3, bias: false);
        x = g.BatchNorm("/bn1", "bn1", x, inplanes);
        x = g.Relu("/relu", x);
        x = g.MaxPool("/maxpool", x, 3, 2, 1);
        for (var stage = 0; stage < blocks.Length; stage++)
        {
            var planes = g.Scale(StageWidths[stage]);
            var layer = $"layer{stage + 1}";
            for (var b = 0; b < blocks[stage]; b++)
            {
                var stride = stage > 0 && b == 0 ? 2 : 1;
                var block = new Block(g, $"/{layer}/{layer}.{b}", $"{layer}.{b}");
                var downsample = b == 0 && (stride != 1 || inplanes != planes * expansion);
                x = bottleneck
                    ? block.Bottleneck(x, inplanes, planes, stride, downsample)
                    : block.Basic(x, inplanes, planes, stride, downsample);
                inplanes = planes * expansion;
            }
        }

        x = g.GlobalAveragePool("/avgpool", x);
        x = g.Flatten("", x);
        var fc = WeightInit.LinearDefault(inplanes);
        g.Linear("/fc", "fc", x, inplanes, options.Classes, fc, fc);
        return g.ToModel(
            $"torchvision {name} (v1.5), seeded init: conv kaiming_normal_(fan_out, relu); batch norm weight 1, bias 0, " +
            "running mean 0, running var 1; fc PyTorch's Linear default, uniform(±1/√fan_in).");
    }

    /// <summary>One residual block: its export scope (<c>/layer1/layer1.0</c>) and state_dict prefix (<c>layer1.0</c>).</summary>
    private readonly record struct Block(ZooGraph G, string Scope, string Module)
    {
        /// <summary>conv3×3(stride)-bn-relu, conv3×3-bn, + identity or downsample, relu.</summary>
        public string Basic(string x, long inplanes, long planes, int stride, bool downsample)
        {
            var y = Conv("conv1", x, inplanes, planes, 3, stride);
            y = Norm("bn1", y, planes);
            y = G.Relu($"{Scope}/relu", y);
            y = Conv("conv2", y, planes, planes, 3, 1);
            y = Norm("bn2", y, planes);
            var identity = downsample ? Downsample(x, inplanes, planes, stride) : x;
            y = G.Add(Scope, y, identity);
            return G.Relu($"{Scope}/relu_1", y);
        }

        /// <summary>conv1×1-bn-relu, conv3×3(stride)-bn-relu, conv1×1(×4)-bn, + identity or downsample, relu.</summary>
        public string Bottleneck(string x, long inplanes, long planes, int stride, bool downsample)
        {
            var outChannels = planes * 4;
            var y = Conv("conv1", x, inplanes, planes, 1, 1);
            y = Norm("bn1", y, planes);
            y = G.Relu($"{Scope}/relu", y);
            y = Conv("conv2", y, planes, planes, 3, stride);
            y = Norm("bn2", y, planes);
            y = G.Relu($"{Scope}/relu_1", y);
            y = Conv("conv3", y, planes, outChannels, 1, 1);
            y = Norm("bn3", y, outChannels);
            var identity = downsample ? Downsample(x, inplanes, outChannels, stride) : x;
            y = G.Add(Scope, y, identity);
            return G.Relu($"{Scope}/relu_2", y);
        }

        /// <summary>downsample = Sequential(conv1×1(stride), BatchNorm2d).</summary>
        private string Downsample(string x, long inplanes, long outChannels, int stride)
        {
            var y = G.Conv($"{Scope}/downsample/downsample.0", $"{Module}.downsample.0", x, inplanes, outChannels, 1, stride, 0, bias: false);
            return G.BatchNorm($"{Scope}/downsample/downsample.1", $"{Module}.downsample.1", y, outChannels);
        }

        private string Conv(string name, string x, long inChannels, long outChannels, int kernel, int stride) =>
            G.Conv($"{Scope}/{name}", $"{Module}.{name}", x, inChannels, outChannels, kernel, stride, kernel / 2, bias: false);

        private string Norm(string name, string x, long channels) =>
            G.BatchNorm($"{Scope}/{name}", $"{Module}.{name}", x, channels);
    }
}

using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Zoo.Internal;

/// <summary>
/// Writes a zoo model's graph the way <c>torch.onnx.export</c> names things: node
/// <c>{scope}/{OpType}</c> with output <c>{scope}/{OpType}_output_0</c>, where the scope is the
/// module path (<c>/layer1/layer1.0/conv1</c>), and initializers named by their
/// <c>state_dict()</c> key. Weights are filled only in <see cref="ToModel"/>, after every shape
/// is known to fit, so a bad option fails before anything large is allocated; a graph built
/// without weights leaves the initializers empty and only describes the parameters.
/// </summary>
internal sealed class ZooGraph
{
    public const string InputName = "input";
    public const string OutputName = "logits";

    private readonly GraphProto graph;
    private readonly List<(TensorProto Tensor, WeightInit Init)> parameters = [];
    private readonly ZooOptions options;
    private readonly bool withWeights;

    public ZooGraph(string name, ZooOptions options, bool withWeights)
    {
        this.options = options;
        this.withWeights = withWeights;
        graph = new GraphProto { Name = name };
        graph.Input.Add(ValueInfo(InputName, [null, 3, options.InputHeight, options.InputWidth]));
        graph.Output.Add(ValueInfo(OutputName, [null, options.Classes]));
    }

    /// <summary>A channel count scaled by <see cref="ZooOptions.WidthMultiplier"/>: nearest integer, at least 1.</summary>
    public long Scale(int channels)
    {
        var scaled = Math.Round(channels * options.WidthMultiplier, MidpointRounding.AwayFromZero);
        if (scaled > int.MaxValue)
        {
            throw new ArgumentException($"ZooOptions.WidthMultiplier {options.WidthMultiplier} makes a layer of {channels} channels {scaled} wide, which is too large.", "options");
        }

        return Math.Max(1L, (long)scaled);
    }

    /// <summary>Conv2d (square kernel, groups 1) with kaiming-normal fan-out weights and, if any, a zero bias.</summary>
    public string Conv(string scope, string module, string x, long inChannels, long outChannels, int kernel, int stride, int pad, bool bias)
    {
        List<string> inputs = [x, Parameter($"{module}.weight", [outChannels, inChannels, kernel, kernel], WeightInit.KaimingNormalFanOut(outChannels, kernel))];
        if (bias)
        {
            inputs.Add(Parameter($"{module}.bias", [outChannels], WeightInit.Constant(0)));
        }

        return Node(scope, "Conv", inputs,
            Ints("dilations", 1, 1), Int("group", 1), Ints("kernel_shape", kernel, kernel), Ints("pads", pad, pad, pad, pad), Ints("strides", stride, stride));
    }

    /// <summary>BatchNorm2d in eval mode, freshly initialised: weight 1, bias 0, running mean 0, running variance 1.</summary>
    public string BatchNorm(string scope, string module, string x, long channels) =>
        Node(scope, "BatchNormalization",
            [
                x,
                Parameter($"{module}.weight", [channels], WeightInit.Constant(1)),
                Parameter($"{module}.bias", [channels], WeightInit.Constant(0)),
                Parameter($"{module}.running_mean", [channels], WeightInit.Constant(0)),
                Parameter($"{module}.running_var", [channels], WeightInit.Constant(1)),
            ],
            Float("epsilon", 1e-5f), Float("momentum", 0.9f), Int("training_mode", 0));

    /// <summary>nn.Linear: Gemm with the weight stored [out, in] as PyTorch does, hence transB = 1.</summary>
    public string Linear(string scope, string module, string x, long inFeatures, long outFeatures, WeightInit weight, WeightInit bias) =>
        Node(scope, "Gemm",
            [x, Parameter($"{module}.weight", [outFeatures, inFeatures], weight), Parameter($"{module}.bias", [outFeatures], bias)],
            Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));

    public string Relu(string scope, string x) => Node(scope, "Relu", [x]);

    public string Add(string scope, string a, string b) => Node(scope, "Add", [a, b]);

    public string MaxPool(string scope, string x, int kernel, int stride, int pad) =>
        Node(scope, "MaxPool", [x], Int("ceil_mode", 0), Ints("kernel_shape", kernel, kernel), Ints("pads", pad, pad, pad, pad), Ints("strides", stride, stride));

    public string AveragePool(string scope, string x, int kernelHeight, int kernelWidth) =>
        Node(scope, "AveragePool", [x], Ints("kernel_shape", kernelHeight, kernelWidth), Ints("strides", kernelHeight, kernelWidth));

    public string GlobalAveragePool(string scope, string x) => Node(scope, "GlobalAveragePool", [x]);

    public string Flatten(string scope, string x) => Node(scope, "Flatten", [x], Int("axis", 1));

    /// <summary>Inference-mode Dropout: no ratio input (the default 0.5 is nn.Dropout's p) and no training_mode, so it passes x through.</summary>
    public string Dropout(string scope, string x) => Node(scope, "Dropout", [x]);

    /// <summary>Renames the last node's output to <c>logits</c>, checks every tensor's size and fills the weights (if wanted).</summary>
    public ModelProto ToModel(string docString)
    {
        graph.Node[^1].Output[0] = OutputName;
        var maxElements = (long)Array.MaxLength / sizeof(float);
        foreach (var (tensor, _) in parameters)
        {
            var count = 1L;
            foreach (var d in tensor.Dims)
            {
                count = count > maxElements / d ? maxElements + 1 : count * d;
            }

            if (count > maxElements)
            {
                throw new ArgumentException($"ZooOptions (Classes {options.Classes}, WidthMultiplier {options.WidthMultiplier}) make '{tensor.Name}' [{string.Join(',', tensor.Dims)}] larger than one array can hold.", "options");
            }
        }

        foreach (var (tensor, init) in withWeights ? parameters : [])
        {
            var count = (int)tensor.Dims.Aggregate(1L, (a, b) => a * b);
            var bytes = GC.AllocateUninitializedArray<byte>(count * sizeof(float));
            init.Fill(MemoryMarshal.Cast<byte, float>(bytes.AsSpan()), options.Seed, tensor.Name);
            // Wrapping hands the array to the message without a second copy of the weights.
            tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
        }

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "OnnxCnn",
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    private string Node(string scope, string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { Name = $"{scope}/{opType}", OpType = opType };
        node.Input.Add(inputs);
        node.Output.Add($"{scope}/{opType}_output_0");
        node.Attribute.Add(attributes);
        graph.Node.Add(node);
        return node.Output[0];
    }

    private string Parameter(string name, long[] dims, WeightInit init)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        graph.Initializer.Add(tensor);
        parameters.Add((tensor, init));
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is { } value
                ? new TensorShapeProto.Types.Dimension { DimValue = value }
                : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }
}

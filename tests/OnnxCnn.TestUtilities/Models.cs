using OnnxCnn.Graphs.Proto;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.TestUtilities;

/// <summary>Ready-made small models for tests.</summary>
public static class Models
{
    /// <summary>Y = X + X over float[N,3].</summary>
    public static byte[] AddSelf() => new ModelBuilder()
        .Input("X", TensorProto.Types.DataType.Float, "N", 3)
        .Node("Add", ["X", "X"], ["Y"])
        .Output("Y", TensorProto.Types.DataType.Float, "N", 3)
        .ToBytes();

    /// <summary>
    /// A small CNN with seeded random weights: Conv(3→8, 3×3, pad 1) → Relu → MaxPool 2 →
    /// GlobalAveragePool → Flatten → Gemm(8→5). Input "image" [N,3,16,16], output "logits" [N,5].
    /// </summary>
    public static byte[] SmallCnn(int seed = 7)
    {
        var random = new Random(seed);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (random.NextSingle() * 2) - 1).ToArray();
        return new ModelBuilder()
            .Input("image", TensorProto.Types.DataType.Float, "batch", 3, 16, 16)
            .Initializer("conv.weight", Rand(8 * 3 * 3 * 3), 8, 3, 3, 3)
            .Initializer("conv.bias", Rand(8), 8)
            .Initializer("fc.weight", Rand(5 * 8), 5, 8)
            .Initializer("fc.bias", Rand(5), 5)
            .Node("Conv", ["image", "conv.weight", "conv.bias"], ["c"], Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3))
            .Node("Relu", ["c"], ["r"])
            .Node("MaxPool", ["r"], ["p"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("GlobalAveragePool", ["p"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], Int("transB", 1))
            .Output("logits", TensorProto.Types.DataType.Float, "batch", 5)
            .ToBytes();
    }

    /// <summary>
    /// A chain of <paramref name="length"/> MatMuls of a [size,size] input by a constant, long
    /// enough to be cancelled while it runs.
    /// </summary>
    public static byte[] SlowChain(int length = 400, int size = 384)
    {
        var b = new ModelBuilder().Input("X", TensorProto.Types.DataType.Float, size, size);
        var weight = Enumerable.Range(0, size * size).Select(i => (i % 7 == 0 ? 1f : 0f) / size).ToArray();
        b.Initializer("W", weight, size, size);
        var current = "X";
        for (var i = 0; i < length; i++)
        {
            var next = i == length - 1 ? "Y" : $"t{i}";
            b.Node("MatMul", [current, "W"], [next]);
            current = next;
        }

        return b.Output("Y", TensorProto.Types.DataType.Float, size, size).ToBytes();
    }
}

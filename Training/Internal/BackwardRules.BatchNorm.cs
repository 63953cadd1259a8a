using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Backward rules of BatchNormalization.</summary>
internal sealed partial class BackwardRules
{
    /// <summary>Forward tensors of the BatchNormalization nodes rewritten to batch statistics, by output.</summary>
    private readonly Dictionary<string, TrainingBatchNorm> trainingBatchNorms = new(StringComparer.Ordinal);

    /// <summary>
    /// Replaces a BatchNormalization node by its training-mode forward (PyTorch's model.train()):
    /// normalise with the batch mean and biased variance over every axis but the channel, and update
    /// the running statistics with the node's ONNX momentum (PyTorch's 1 − momentum), the running
    /// variance from the unbiased batch variance. The node object stays in the caller's order list so
    /// the backward pass finds it; its replacement produces the same output name. Returns the running
    /// mean and variance with the tensors holding their new values.
    /// </summary>
    public IReadOnlyList<(string Statistic, string Updated)> UseBatchStatistics(NodeProto node)
    {
        var rank = shapes[node.Input[0]].Rank;
        if (rank < 2)
        {
            throw Unsupported(node, "training-mode BatchNormalization needs an input of known rank ≥ 2");
        }

        if (node.Output.Count > 1 && node.Output.Skip(1).Any(o => o.Length > 0))
        {
            throw Unsupported(node, "BatchNormalization that already outputs running statistics is not supported");
        }

        var index = e.Graph.Node.IndexOf(node);
        var before = e.Graph.Node.Count;
        var eps = Attr.Float(node, "epsilon", 1e-5f);
        var momentum = Attr.Float(node, "momentum", 0.9f);
        var x = node.Input[0];
        long[] axes = [0, .. Enumerable.Range(2, rank - 2).Select(i => (long)i)];
        var channel = e.Longs("bnt_shape", [1, -1, .. Enumerable.Repeat(1L, rank - 2)]);
        var mean = e.Node("ReduceMean", [x], "bnt_mean", GraphEmitter.Ints("axes", axes), GraphEmitter.Int("keepdims", 1));
        var centred = e.Node("Sub", [x, mean], "bnt_centred");
        var variance = e.Node("ReduceMean", [e.Node("Mul", [centred, centred], "bnt_sq")], "bnt_var", GraphEmitter.Ints("axes", axes), GraphEmitter.Int("keepdims", 1));
        var invStd = e.Node("Reciprocal", [e.Node("Sqrt", [e.Node("Add", [variance, e.Scalar(eps)], "bnt_var_eps")], "bnt_std")], "bnt_inv");
        var xhat = e.Node("Mul", [centred, invStd], "bnt_xhat");
        var scale = e.Node("Reshape", [node.Input[1], channel], "bnt_scale");
        var y = e.Node("Add", [e.Node("Mul", [xhat, scale], "bnt_scaled"), e.Node("Reshape", [node.Input[2], channel], "bnt_bias")], "bnt_y");

        // Running statistics: r' = momentum·r + (1 − momentum)·batch, the variance unbiased by m/(m − 1), m = elements per channel.
        var flat = e.Longs("bnt_flat", -1);
        var count = e.Node("Div", [e.Node("Cast", [e.Node("Size", [x], "bnt_size")], "bnt_sizef", GraphEmitter.Int("to", 1)),
            e.Node("Cast", [e.Node("Slice", [e.ShapeOf(x), e.Longs("bnt_c0", 1), e.Longs("bnt_c1", 2)], "bnt_c")], "bnt_cf", GraphEmitter.Int("to", 1))], "bnt_m");
        var unbiased = e.Node("Mul", [e.Node("Reshape", [variance, flat], "bnt_var_flat"), e.Node("Div", [count, e.Node("Sub", [count, e.Scalar(1)], "bnt_m1")], "bnt_bessel")], "bnt_var_unbiased");
        var keep = e.Scalar(momentum);
        var take = e.Scalar(1 - momentum);
        var newMean = e.Node("Add", [e.Node("Mul", [node.Input[3], keep], "bnt_rm_keep"), e.Node("Mul", [e.Node("Reshape", [mean, flat], "bnt_mean_flat"), take], "bnt_rm_take")], "bnt_running_mean");
        var newVar = e.Node("Add", [e.Node("Mul", [node.Input[4], keep], "bnt_rv_keep"), e.Node("Mul", [unbiased, take], "bnt_rv_take")], "bnt_running_var");

        e.ReplaceNode(node, index, before, y);

        trainingBatchNorms[node.Output[0]] = new TrainingBatchNorm(xhat, invStd, scale, axes);
        return [(node.Input[3], Identity(newMean, node.Input[3] + ".updated")), (node.Input[4], Identity(newVar, node.Input[4] + ".updated"))];
    }

    private string Identity(string tensor, string name)
    {
        e.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "/train/out/" + name, Input = { tensor }, Output = { name } });
        return name;
    }

    /// <summary>PyTorch's training-mode backward: dX = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dY·scale.</summary>
    private IEnumerable<(int, string)> TrainingBatchNormBackward(TrainingBatchNorm bn, string dY, Func<int, bool> wanted)
    {
        if (wanted(0))
        {
            var dxhat = e.Node("Mul", [dY, bn.Scale], "bnt_dxhat");
            var m1 = e.Node("ReduceMean", [dxhat], "bnt_m1", GraphEmitter.Ints("axes", bn.Axes), GraphEmitter.Int("keepdims", 1));
            var m2 = e.Node("ReduceMean", [e.Node("Mul", [dxhat, bn.XHat], "bnt_dxx")], "bnt_m2", GraphEmitter.Ints("axes", bn.Axes), GraphEmitter.Int("keepdims", 1));
            var inner = e.Node("Sub", [e.Node("Sub", [dxhat, m1], "bnt_d1"), e.Node("Mul", [bn.XHat, m2], "bnt_xm2")], "bnt_d2");
            yield return (0, e.Node("Mul", [inner, bn.InvStd], "dbn_train_x"));
        }

        if (wanted(1))
        {
            yield return (1, e.Node("ReduceSum", [e.Node("Mul", [dY, bn.XHat], "bnt_dyx"), e.Longs("bnt_axes", bn.Axes)], "dbn_train_scale", GraphEmitter.Int("keepdims", 0)));
        }

        if (wanted(2))
        {
            yield return (2, e.Node("ReduceSum", [dY, e.Longs("bnt_axes", bn.Axes)], "dbn_train_bias", GraphEmitter.Int("keepdims", 0)));
        }
    }

    private sealed record TrainingBatchNorm(string XHat, string InvStd, string Scale, long[] Axes);

    private IEnumerable<(int, string)> FrozenBatchNorm(NodeProto node, string dY, Func<int, bool> wanted)
    {
        // Inference-mode BN is a per-channel affine: y = x̂·scale + B with x̂ = (x − mean)/√(var + ε).
        var eps = Attr.Float(node, "epsilon", 1e-5f);

        // Any rank ≥ 2 (after a Gemm the input is [N, C]): channel vectors broadcast as [1, C, 1, …], sums over all but axis 1.
        var rank = shapes[node.Input[0]].Dims?.Length ?? throw Unsupported(node, "BatchNormalization gradients need the input's rank");
        var channel = e.Longs("bn_shape", [1, -1, .. Enumerable.Repeat(1L, rank - 2)]);
        long[] reduce = [0, .. Enumerable.Range(2, rank - 2).Select(a => (long)a)];
        var invStd = e.Node("Reciprocal", [e.Node("Sqrt", [e.Node("Add", [node.Input[4], e.Scalar(eps)], "bn_var")], "bn_std")], "bn_inv");
        if (wanted(0))
        {
            var k = e.Node("Mul", [node.Input[1], invStd], "bn_k");
            yield return (0, e.Node("Mul", [dY, e.Node("Reshape", [k, channel], "bn_kc")], "dbn_x"));
        }

        if (wanted(1))
        {
            var centred = e.Node("Sub", [node.Input[0], e.Node("Reshape", [node.Input[3], channel], "bn_meanc")], "bn_centred");
            var xhat = e.Node("Mul", [centred, e.Node("Reshape", [invStd, channel], "bn_invc")], "bn_xhat");
            yield return (1, e.Node("ReduceSum", [e.Node("Mul", [dY, xhat], "bn_dyx"), e.Longs("axes", reduce)], "dbn_scale", GraphEmitter.Int("keepdims", 0)));
        }

        if (wanted(2))
        {
            yield return (2, e.Node("ReduceSum", [dY, e.Longs("axes", reduce)], "dbn_bias", GraphEmitter.Int("keepdims", 0)));
        }
    }
}

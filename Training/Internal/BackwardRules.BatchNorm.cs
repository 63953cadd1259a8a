using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Backward rules of BatchNormalization.</summary>
internal sealed partial class BackwardRules
{
    private IEnumerable<(int, string)> FrozenBatchNorm(NodeProto node, string dY, Func<int, bool> wanted)
    {
        // Inference-mode BN is a per-channel affine: y = x̂·scale + B with x̂ = (x − mean)/√(var + ε).
        var eps = Attr.Float(node, "epsilon", 1e-5f);
        var channel = e.Longs("bn_shape", 1, -1, 1, 1);
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
            yield return (1, e.Node("ReduceSum", [e.Node("Mul", [dY, xhat], "bn_dyx"), e.Longs("axes", 0, 2, 3)], "dbn_scale", GraphEmitter.Int("keepdims", 0)));
        }

        if (wanted(2))
        {
            yield return (2, e.Node("ReduceSum", [dY, e.Longs("axes", 0, 2, 3)], "dbn_bias", GraphEmitter.Int("keepdims", 0)));
        }
    }
}

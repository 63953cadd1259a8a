using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// Backward rules: given a node and the gradient of its output, emit standard-ONNX nodes for the
/// gradients of the inputs that need one. Formulations follow TRAINING-NOTES.md (checked on ORT 1.30).
/// </summary>
internal sealed partial class BackwardRules(GraphEmitter e, ShapeInferenceResult shapes)
{
    /// <summary>Operators with a rule.</summary>
    public static readonly IReadOnlySet<string> Supported = new HashSet<string>(StringComparer.Ordinal)
    {
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Relu", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity",
        "Dropout", "GlobalAveragePool", "Conv", "MaxPool", "BatchNormalization", "Sigmoid", "LeakyRelu", "Clip",
        "HardSigmoid", "HardSwish", "Transpose", "Concat", "Softmax", "Div", "ReduceMean", "AveragePool", "Pad",
    };

    /// <summary>Gradient parts left at a broadcastable shape (GlobalAveragePool's), with the shape tensor of the full gradient.</summary>
    private readonly Dictionary<string, string> broadcastParts = new(StringComparer.Ordinal);

    /// <summary>
    /// One tensor's gradient from its parts: the part itself, or their Sum. Parts left at a broadcastable shape reach
    /// full size through the Sum's broadcasting when a full-size part is there, else by one Expand. On PaddleOCR's
    /// classifier this removes the 10 squeeze-excite Expands (0.9 ms of ORT profile time a step at batch 16).
    /// </summary>
    public string Sum(IReadOnlyList<string> parts)
    {
        var sum = parts.Count == 1 ? parts[0] : e.Node("Sum", parts, "grad_sum");
        return parts.All(broadcastParts.ContainsKey) ? e.Node("Expand", [sum, broadcastParts[parts[0]]], "dgap") : sum;
    }

    /// <summary>Returns (input index, gradient tensor) pairs for the inputs in <paramref name="wanted"/>.</summary>
    /// <remarks>
    /// Long on purpose: this is the rule table, one short case per operator read side by side (as PyTorch's
    /// derivatives.yaml lists them); a rule that needs more than a few lines lives in its own partial file
    /// (Conv, Depthwise, Pooling, BatchNorm, Dropout, HardSwish) and the case only calls it.
    /// </remarks>
    public IEnumerable<(int Input, string Gradient)> Apply(NodeProto node, string dY, Func<int, bool> wanted)
    {
        var x = node.Input.Count > 0 ? node.Input[0] : "";
        switch (node.OpType)
        {
            case "Identity":
            case "Dropout":
                // Inference-mode dropout is the identity; training-mode dropout multiplies by its forward's scaled mask.
                if (wanted(0))
                {
                    yield return (0, node.OpType == "Dropout" && dropoutMasks.TryGetValue(node.Output[0], out var mask) ? e.Node("Mul", [dY, mask], "ddropout") : dY);
                }

                break;
            case "Flatten":
            case "Reshape":
            case "Squeeze":
            case "Unsqueeze":
                if (wanted(0))
                {
                    yield return (0, e.Node("Reshape", [dY, e.ShapeOf(x)], "dreshape"));
                }

                break;
            case "Relu":
                // dY times the mask as floats: 0.69× the time of Where(mask, dY, 0) on PaddleOCR's 6 full-size ReLUs at batch
                // 16 (training/step_micro.py relu_*; Sign(y) times dY was 2.6×).
                yield return (0, e.Node("Mul", [dY, e.Node("Cast", [e.Node("Greater", [node.Output[0], e.Scalar(0)], "relu_mask")], "relu_maskf", GraphEmitter.Int("to", 1))], "drelu"));
                break;
            case "LeakyRelu":
                var alpha = Attr.Float(node, "alpha", 0.01f);
                var positive = e.Node("Greater", [x, e.Scalar(0)], "lrelu_mask");
                yield return (0, e.Node("Where", [positive, dY, e.Node("Mul", [dY, e.Scalar(alpha)], "lrelu_neg")], "dlrelu"));
                break;
            case "Sigmoid":
                var y = node.Output[0];
                var oneMinus = e.Node("Sub", [e.Scalar(1), y], "sig_1m");
                yield return (0, e.Node("Mul", [dY, e.Node("Mul", [y, oneMinus], "sig_d")], "dsigmoid"));
                break;
            case "Clip":
                // Gradient passes where min < x < max.
                var inside = e.Node("Cast", [e.Node("Equal", [x, node.Output[0]], "clip_eq")], "clip_maskf", GraphEmitter.Int("to", 1));
                yield return (0, e.Node("Mul", [dY, inside], "dclip"));
                break;
            case "HardSigmoid":
            {
                // y = max(0, min(1, αx + β)): slope α inside the linear part.
                var a = Attr.Float(node, "alpha", 0.2f);
                // The linear part is where the output is strictly between 0 and 1: read from the forward's output, 4 passes
                // over the tensor instead of 8 recomputing αx + β (hard-swish as x·HardSigmoid(x) runs this at full size).
                var gate = node.Output[0];
                var linear = e.Node("And", [e.Node("Greater", [gate, e.Scalar(0)], "hs_gt"), e.Node("Less", [gate, e.Scalar(1)], "hs_lt")], "hs_in");
                var mask = e.Node("Cast", [linear], "hs_inf", GraphEmitter.Int("to", 1));
                yield return (0, e.Node("Mul", [e.Node("Mul", [dY, e.Scalar(a)], "hs_slope"), mask], "dhardsigmoid"));
                break;
            }

            case "HardSwish":
            {
                // y = x·relu6(x + 3)/6: dy/dx = 0 (x ≤ −3), (2x + 3)/6 (−3 < x < 3), 1 (x ≥ 3).
                var middle = e.Node("Div", [e.Node("Add", [e.Node("Mul", [x, e.Scalar(2)], "hw_2x"), e.Scalar(3)], "hw_num"), e.Scalar(6)], "hw_mid");
                var high = e.Node("Cast", [e.Node("Not", [e.Node("Less", [x, e.Scalar(3)], "hw_lt3")], "hw_ge3")], "hw_hi", GraphEmitter.Int("to", 1));
                var ramp = e.Node("Cast", [e.Node("And", [e.Node("Greater", [x, e.Scalar(-3)], "hw_gtm3"), e.Node("Less", [x, e.Scalar(3)], "hw_lt3b")], "hw_in")], "hw_inf", GraphEmitter.Int("to", 1));
                var slope = e.Node("Add", [e.Node("Mul", [ramp, middle], "hw_s1"), high], "hw_slope");
                yield return (0, e.Node("Mul", [dY, slope], "dhardswish"));
                break;
            }

            case "Transpose":
            {
                var perm = Attr.Ints(node, "perm");
                if (perm.Length == 0)
                {
                    perm = Enumerable.Range(0, shapes[x].Rank).Reverse().Select(i => (long)i).ToArray();
                }

                var inverse = new long[perm.Length];
                for (var i = 0; i < perm.Length; i++)
                {
                    inverse[perm[i]] = i;
                }

                yield return (0, e.Node("Transpose", [dY], "dtranspose", GraphEmitter.Ints("perm", inverse)));
                break;
            }

            case "Concat":
            {
                var axis = Attr.Int(node, "axis", 0);
                var rank = shapes[node.Output[0]].Rank;
                if (axis < 0)
                {
                    axis += rank;
                }

                long offset = 0;
                for (var i = 0; i < node.Input.Count; i++)
                {
                    var size = shapes[node.Input[i]].Dims is { } dims && dims[axis].IsKnown ? dims[axis].Value
                        : throw Unsupported(node, $"Concat input {i} has an unknown size along axis {axis}");
                    if (wanted(i))
                    {
                        yield return (i, e.Node("Slice", [dY, e.Longs("c_s", offset), e.Longs("c_e", offset + size), e.Longs("c_a", axis)], "dconcat"));
                    }

                    offset += size;
                }

                break;
            }

            case "Softmax":
            {
                // dX = Y·(dY − Σ(dY·Y)) along the axis.
                var axis = Attr.Int(node, "axis", -1);
                var probs = node.Output[0];
                var dot = e.Node("ReduceSum", [e.Node("Mul", [dY, probs], "sm_dyy"), e.Longs("sm_axes", axis)], "sm_dot", GraphEmitter.Int("keepdims", 1));
                yield return (0, e.Node("Mul", [probs, e.Node("Sub", [dY, dot], "sm_diff")], "dsoftmax"));
                break;
            }

            case "Div":
                if (wanted(0))
                {
                    yield return (0, ReduceTo(e.Node("Div", [dY, node.Input[1]], "ddiv_a"), node.Input[0], node.Output[0]));
                }

                if (wanted(1))
                {
                    // d(a/b)/db = −a/b² = −y/b.
                    var g = e.Node("Neg", [e.Node("Div", [e.Node("Mul", [dY, node.Output[0]], "ddiv_yb"), node.Input[1]], "ddiv_q")], "ddiv_b");
                    yield return (1, ReduceTo(g, node.Input[1], node.Output[0]));
                }

                break;
            case "ReduceMean":
            {
                // dX = Expand(dY (with the reduced axes kept), shape(X)) / count.
                var keep = Attr.Int(node, "keepdims", 1) != 0;
                var axes = Attr.Ints(node, "axes");
                var rank = shapes[x].Rank;
                var xs = shapes[x];
                if (axes.Length == 0 || xs.Dims is null || axes.Any(a => !xs.Dims[a < 0 ? (int)(a + rank) : (int)a].IsKnown))
                {
                    throw Unsupported(node, "ReduceMean gradients need explicit axes of known size");
                }

                var normalized = axes.Select(a => a < 0 ? a + rank : a).ToArray();
                var reduced = normalized.Aggregate(1L, (p, a) => p * xs.Dims[(int)a].Value);
                var g = keep ? dY : e.Node("Unsqueeze", [dY, e.Longs("rm_axes", normalized)], "rm_keep");
                yield return (0, e.Node("Div", [e.Node("Expand", [g, e.ShapeOf(x)], "rm_expand"), e.Scalar(reduced)], "dreducemean"));
                break;
            }

            case "GlobalAveragePool":
                var shape = e.ShapeOf(x);
                var spatial = e.Node("Slice", [shape, e.Longs("s2", 2), e.Longs("send", long.MaxValue)], "gap_spatial");
                var count = e.Node("Cast", [e.Node("ReduceProd", [spatial], "gap_count", GraphEmitter.Int("keepdims", 0))], "gap_countf", GraphEmitter.Int("to", 1));
                // Left at [N, C, 1, 1]: Sum broadcasts it onto the other parts of the input's gradient (a squeeze-excite
                // block's x·gate), one full-size pass instead of an Expand and a Sum (see Sum below).
                var mean = e.Node("Div", [dY, count], "gap_mean");
                broadcastParts[mean] = shape;
                yield return (0, mean);
                break;
            case "Add":
            case "Sub":
                for (var i = 0; i < 2; i++)
                {
                    if (wanted(i))
                    {
                        var g = node.OpType == "Sub" && i == 1 ? e.Node("Neg", [dY], "dsub") : dY;
                        yield return (i, ReduceTo(g, node.Input[i], node.Output[0]));
                    }
                }

                break;
            case "Mul" when hardSwishGates.TryGetValue(node.Output[0], out var gate):
                // x·HardSigmoid(x): the whole gradient goes to x in one slope; the gate gets none of its own.
                var operand = node.Input[0] == gate.Input[0] ? 0 : 1;
                if (wanted(operand))
                {
                    yield return (operand, HardSwishPair(gate, dY));
                }

                break;
            case "Mul":
                for (var i = 0; i < 2; i++)
                {
                    if (wanted(i))
                    {
                        yield return (i, ReduceTo(e.Node("Mul", [dY, node.Input[1 - i]], "dmul"), node.Input[i], node.Output[0]));
                    }
                }

                break;
            case "Gemm":
                foreach (var r in Gemm(node, dY, wanted))
                {
                    yield return r;
                }

                break;
            case "MatMul":
                if (shapes[node.Input[0]].Rank != 2 || shapes[node.Input[1]].Rank != 2)
                {
                    throw Unsupported(node, "MatMul gradients are implemented for 2-D operands");
                }

                if (wanted(0))
                {
                    yield return (0, e.Node("Gemm", [dY, node.Input[1]], "dmatmul_a", GraphEmitter.Int("transB", 1)));
                }

                if (wanted(1))
                {
                    yield return (1, e.Node("Gemm", [node.Input[0], dY], "dmatmul_b", GraphEmitter.Int("transA", 1)));
                }

                break;
            case "Conv":
                foreach (var r in Conv(node, dY, wanted))
                {
                    yield return r;
                }

                break;
            case "MaxPool":
                if (wanted(0))
                {
                    yield return (0, MaxPool(node, dY));
                }

                break;
            case "AveragePool":
                if (wanted(0))
                {
                    yield return (0, AveragePool(node, dY));
                }

                break;
            case "Pad":
                if (wanted(0))
                {
                    yield return (0, Pad(node, dY));
                }

                break;
            case "BatchNormalization":
                foreach (var r in trainingBatchNorms.TryGetValue(node.Output[0], out var batchStatistics)
                    ? TrainingBatchNormBackward(batchStatistics, dY, wanted) : FrozenBatchNorm(node, dY, wanted))
                {
                    yield return r;
                }

                break;
            default:
                throw Unsupported(node, "no backward rule for this operator");
        }
    }

    public static InvalidOperationException Unsupported(NodeProto node, string why) =>
        new($"cannot train through node '{OnnxGraph.NodeLabel(node)}' ({node.OpType}): {why}. Freeze it (train only what comes after it) or rewrite the graph.");

    /// <summary>Sums a broadcast gradient back to an operand's shape (static ranks, symbolic batch allowed).</summary>
    private string ReduceTo(string gradient, string operand, string output)
    {
        var a = shapes[operand];
        var y = shapes[output];
        if (a.Dims is null || y.Dims is null)
        {
            throw new InvalidOperationException($"cannot differentiate the broadcast of '{operand}': its shape is unknown.");
        }

        if (a.Dims.Length == y.Dims.Length && a.Dims.Zip(y.Dims).All(p => p.First == p.Second || (!p.First.IsKnown && !p.Second.IsKnown)))
        {
            return gradient;
        }

        var axes = new List<long>();
        var offset = y.Dims.Length - a.Dims.Length;
        for (var i = 0; i < y.Dims.Length; i++)
        {
            var j = i - offset;
            if (j < 0 || (a.Dims[j] is { IsKnown: true, Value: 1 } && !(y.Dims[i] is { IsKnown: true, Value: 1 })))
            {
                axes.Add(i);
            }
        }

        var reduced = axes.Count == 0 ? gradient : e.Node("ReduceSum", [gradient, e.Longs("axes", [.. axes])], "dbroadcast", GraphEmitter.Int("keepdims", 1));
        return e.Node("Reshape", [reduced, e.ShapeOf(operand)], "dbroadcast_shape");
    }

    private IEnumerable<(int, string)> Gemm(NodeProto node, string dY, Func<int, bool> wanted)
    {
        if (Attr.Int(node, "transA", 0) != 0)
        {
            throw Unsupported(node, "Gemm with transA is not differentiated yet");
        }

        var alpha = Attr.Float(node, "alpha", 1);
        var beta = Attr.Float(node, "beta", 1);
        var transB = Attr.Int(node, "transB", 0) != 0;
        var g = alpha == 1 ? dY : e.Node("Mul", [dY, e.Scalar(alpha)], "dgemm_alpha");
        if (wanted(0))
        {
            // A·B (transB 0) or A·Bᵀ (transB 1): dA = dY·Bᵀ or dY·B.
            yield return (0, e.Node("Gemm", [g, node.Input[1]], "dgemm_a", GraphEmitter.Int("transB", transB ? 0 : 1)));
        }

        if (wanted(1))
        {
            yield return (1, transB
                ? e.Node("Gemm", [g, node.Input[0]], "dgemm_b", GraphEmitter.Int("transA", 1))
                : e.Node("Gemm", [node.Input[0], g], "dgemm_b", GraphEmitter.Int("transA", 1)));
        }

        if (node.Input.Count > 2 && node.Input[2].Length > 0 && wanted(2))
        {
            var c = beta == 1 ? dY : e.Node("Mul", [dY, e.Scalar(beta)], "dgemm_beta");
            yield return (2, ReduceTo(c, node.Input[2], node.Output[0]));
        }
    }

    private static long[] Ints(NodeProto node, string name, long fallback) =>
        Attr.Ints(node, name) is { Length: 2 } v ? v : [fallback, fallback];
}

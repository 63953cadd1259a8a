namespace OnnxCnn.Training.Internal;

/// <summary>Emits gradient clipping and optimiser updates as ONNX nodes, with PyTorch's formulas.</summary>
internal sealed class OptimizerEmitter(GraphEmitter e, TrainingSpec spec)
{
    /// <summary>
    /// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13): the L2 norm over all gradients together, and
    /// every gradient scaled by min(1, max / (norm + 1e-6)). Returns the clipped gradient of each parameter.
    /// </summary>
    public Dictionary<string, string> ClipByGlobalNorm(IReadOnlyDictionary<string, string> gradients, float maxNorm)
    {
        var squares = gradients.Values.Select(g => e.Node("ReduceSum", [e.Node("Mul", [g, g], "g_sq")], "g_sqsum", GraphEmitter.Int("keepdims", 0))).ToList();
        var total = squares.Count == 1 ? squares[0] : e.Node("Sum", squares, "g_sqtotal");
        var norm = e.Node("Sqrt", [total], "grad_norm");
        var coefficient = e.Node("Min", [e.Node("Div", [e.Scalar(maxNorm), e.Node("Add", [norm, e.Scalar(1e-6f)], "norm_eps")], "clip_raw"), e.Scalar(1f)], "clip_coef");
        return gradients.ToDictionary(kv => kv.Key, kv => e.Node("Mul", [kv.Value, coefficient], "g_clipped"), StringComparer.Ordinal);
    }

    /// <summary>
    /// Emits the update of <paramref name="p"/> with learning-rate input <paramref name="lr"/>; records output names in
    /// <paramref name="updated"/>; returns (state input, new state output) pairs.
    /// </summary>
    /// <remarks>
    /// Long on purpose: one case per optimiser (SGD with momentum/Nesterov, RMSprop, Adam/AdamW), each the few lines of
    /// its published update rule with the formula in a comment above it, kept together so they can be read against
    /// torch.optim's documentation line by line.
    /// </remarks>
    public IEnumerable<(string State, string Updated)> Update(string p, string g, string lr, Dictionary<string, string> updated)
    {
        var result = new List<(string, string)>();
        switch (spec.Optimizer)
        {
            case OptimizerKind.Sgd:
            {
                // g' = g + wd·p; v' = μ·v + g'; d = nesterov ? g' + μ·v' : v'; p' = p − lr·d.
                var gw = L2(p, g);
                var d = gw;
                if (spec.Momentum > 0)
                {
                    var v = $"{p}.momentum";
                    var v2 = e.Node("Add", [e.Node("Mul", [v, e.Scalar(spec.Momentum)], "mv"), gw], "v_new");
                    d = spec.Nesterov ? e.Node("Add", [gw, e.Node("Mul", [v2, e.Scalar(spec.Momentum)], "nest")], "d_nest") : v2;
                    result.Add((v, Output(v2, v, updated)));
                }

                Output(e.Node("Sub", [p, e.Node("Mul", [d, lr], "lr_d")], "p_new"), p, updated);
                break;
            }

            case OptimizerKind.RmsProp:
            {
                // PyTorch 1.13: s' = α s + (1−α) g²; centered: a' = α a + (1−α) g, den = √(s' − a'²) + ε, else den = √s' + ε;
                // momentum: b' = μ b + g/den, p' = p − lr·b'; without: p' = p − lr·g/den.
                var gw = L2(p, g);
                var s = $"{p}.rms_square";
                var s2 = e.Node("Add", [e.Node("Mul", [s, e.Scalar(spec.Alpha)], "as"), e.Node("Mul", [e.Node("Mul", [gw, gw], "g2"), e.Scalar(1 - spec.Alpha)], "ag2")], "s_new");
                result.Add((s, Output(s2, s, updated)));
                var variance = s2;
                if (spec.Centered)
                {
                    var a = $"{p}.rms_average";
                    var a2 = e.Node("Add", [e.Node("Mul", [a, e.Scalar(spec.Alpha)], "aa"), e.Node("Mul", [gw, e.Scalar(1 - spec.Alpha)], "ag")], "a_new");
                    result.Add((a, Output(a2, a, updated)));
                    variance = e.Node("Sub", [s2, e.Node("Mul", [a2, a2], "a2sq")], "centered");
                }

                var direction = e.Node("Div", [gw, e.Node("Add", [e.Node("Sqrt", [variance], "rms"), e.Scalar(spec.Epsilon)], "rms_eps")], "rms_dir");
                if (spec.Momentum > 0)
                {
                    var b = $"{p}.momentum";
                    direction = e.Node("Add", [e.Node("Mul", [b, e.Scalar(spec.Momentum)], "mb"), direction], "b_new");
                    result.Add((b, Output(direction, b, updated)));
                }

                Output(e.Node("Sub", [p, e.Node("Mul", [direction, lr], "lr_d")], "p_new"), p, updated);
                break;
            }

            default:
            {
                // Adam(W): m' = β1 m + (1−β1) g; v' = β2 v + (1−β2) g²; p' = p − lr·m̂/(√v̂ + ε).
                var decayed = p;
                var gw = g;
                if (spec.WeightDecay > 0 && spec.Optimizer == OptimizerKind.AdamW)
                {
                    decayed = e.Node("Mul", [p, e.Node("Sub", [e.Scalar(1), e.Node("Mul", [lr, e.Scalar(spec.WeightDecay)], "lr_wd")], "decay")], "p_decayed");
                }
                else
                {
                    gw = L2(p, g);
                }

                var m = $"{p}.adam_m";
                var v = $"{p}.adam_v";
                var m2 = e.Node("Add", [e.Node("Mul", [m, e.Scalar(spec.Beta1)], "b1m"), e.Node("Mul", [gw, e.Scalar(1 - spec.Beta1)], "b1g")], "m_new");
                var v2 = e.Node("Add", [e.Node("Mul", [v, e.Scalar(spec.Beta2)], "b2v"), e.Node("Mul", [e.Node("Mul", [gw, gw], "g2"), e.Scalar(1 - spec.Beta2)], "b2g")], "v_new");
                var step = TrainingGraph.StepInput;
                var c1 = e.Node("Sub", [e.Scalar(1), e.Node("Pow", [e.Scalar(spec.Beta1), step], "b1t")], "c1");
                var c2 = e.Node("Sub", [e.Scalar(1), e.Node("Pow", [e.Scalar(spec.Beta2), step], "b2t")], "c2");
                var mhat = e.Node("Div", [m2, c1], "mhat");
                var vhat = e.Node("Div", [v2, c2], "vhat");
                var delta = e.Node("Div", [mhat, e.Node("Add", [e.Node("Sqrt", [vhat], "sqrt_v"), e.Scalar(spec.Epsilon)], "denom")], "adam_dir");
                Output(e.Node("Sub", [decayed, e.Node("Mul", [delta, lr], "lr_d")], "p_new"), p, updated);
                result.Add((m, Output(m2, m, updated)));
                result.Add((v, Output(v2, v, updated)));
                break;
            }
        }

        return result;
    }

    /// <summary>L2 weight decay folded into the gradient (g + wd·p), as torch.optim does for SGD, Adam and RMSprop.</summary>
    private string L2(string p, string g) =>
        spec.WeightDecay > 0 ? e.Node("Add", [g, e.Node("Mul", [p, e.Scalar(spec.WeightDecay)], "wd")], "g_wd") : g;

    private readonly List<(string Tensor, string Name)> renames = [];

    /// <summary>
    /// Gives each new value its output name where it is made and read (call once after every update is emitted):
    /// an Identity to the output name would copy every parameter and state tensor once more per step.
    /// </summary>
    public void Finish()
    {
        var rename = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (tensor, name) in renames)
        {
            if (e.Graph.Input.Any(i => i.Name == tensor) || !e.Graph.Node.Any(n => n.Output.Contains(tensor)) || rename.ContainsKey(tensor))
            {
                e.Graph.Node.Add(new Graphs.Proto.NodeProto { OpType = "Identity", Name = "/train/out/" + name, Input = { tensor }, Output = { name } });
            }
            else
            {
                rename[tensor] = name;
            }
        }

        foreach (var node in e.Graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (rename.TryGetValue(node.Input[i], out var to))
                {
                    node.Input[i] = to;
                }
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                if (rename.TryGetValue(node.Output[i], out var to))
                {
                    node.Output[i] = to;
                }
            }
        }

        renames.Clear();
    }

    private string Output(string tensor, string of, Dictionary<string, string> updated)
    {
        var name = of + ".updated";
        renames.Add((tensor, name));
        updated[of] = name;
        return name;
    }
}

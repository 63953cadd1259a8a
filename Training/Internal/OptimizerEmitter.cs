namespace OnnxCnn.Training.Internal;

/// <summary>Emits optimiser updates as ONNX nodes, with PyTorch's formulas.</summary>
internal sealed class OptimizerEmitter(GraphEmitter e, TrainingSpec spec)
{
    /// <summary>Emits the update of <paramref name="p"/>; records output names in <paramref name="updated"/>; returns (state input, new state output) pairs.</summary>
    public IEnumerable<(string State, string Updated)> Update(string p, string g, Dictionary<string, string> updated)
    {
        var lr = TrainingGraph.LearningRateInput;
        var result = new List<(string, string)>();
        switch (spec.Optimizer)
        {
            case OptimizerKind.Sgd:
            {
                // g' = g + wd·p; v' = μ·v + g'; d = nesterov ? g' + μ·v' : v'; p' = p − lr·d.
                var gw = spec.WeightDecay > 0 ? e.Node("Add", [g, e.Node("Mul", [p, e.Scalar(spec.WeightDecay)], "wd")], "g_wd") : g;
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

            default:
            {
                // Adam(W): m' = β1 m + (1−β1) g; v' = β2 v + (1−β2) g²; p' = p − lr·m̂/(√v̂ + ε).
                var decayed = p;
                var gw = g;
                if (spec.WeightDecay > 0 && spec.Optimizer == OptimizerKind.AdamW)
                {
                    decayed = e.Node("Mul", [p, e.Node("Sub", [e.Scalar(1), e.Node("Mul", [lr, e.Scalar(spec.WeightDecay)], "lr_wd")], "decay")], "p_decayed");
                }
                else if (spec.WeightDecay > 0)
                {
                    gw = e.Node("Add", [g, e.Node("Mul", [p, e.Scalar(spec.WeightDecay)], "wd")], "g_wd");
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

    private string Output(string tensor, string of, Dictionary<string, string> updated)
    {
        var name = of + ".updated";
        e.Graph.Node.Add(new Graphs.Proto.NodeProto { OpType = "Identity", Name = "/train/out/" + of, Input = { tensor }, Output = { name } });
        updated[of] = name;
        return name;
    }
}

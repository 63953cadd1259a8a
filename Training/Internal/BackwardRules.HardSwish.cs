using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Internal;
using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Training.Internal;

/// <summary>Backward of hard-swish written as x·HardSigmoid(x) (Paddle2ONNX, exporters below opset 14) as one slope.</summary>
internal sealed partial class BackwardRules
{
    /// <summary>The HardSigmoid gate of each x·HardSigmoid(x) Mul, by the Mul's output.</summary>
    private readonly Dictionary<string, NodeProto> hardSwishGates = new(StringComparer.Ordinal);

    /// <summary>
    /// Finds the Mul(x, HardSigmoid(x)) pairs whose gate feeds only that Mul: their backward becomes one slope
    /// (<see cref="HardSwishPair"/>) and the gate receives no gradient of its own.
    /// </summary>
    public void UseHardSwishPairs(GraphProto graph)
    {
        var view = new OnnxGraph(graph);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var mul in graph.Node.Where(n => n.OpType == "Mul" && n.Input.Count == 2))
        {
            for (var i = 0; i < 2; i++)
            {
                if (view.Producer(mul.Input[i]) is { OpType: "HardSigmoid" } gate && gate.Input[0] == mul.Input[1 - i]
                    && view.Consumers(gate.Output[0]).Count == 1 && !outputs.Contains(gate.Output[0]))
                {
                    hardSwishGates[mul.Output[0]] = gate;
                }
            }
        }
    }

    /// <summary>
    /// d/dx [x·s(x)] with s = HardSigmoid(x; α, β) = s + α·x·[0 &lt; αx + β &lt; 1], the linear zone found on x as
    /// |x − c| &lt; r (c = (½ − β)/α, r = ½/|α|; c is 0 for hard-swish's β = ½). Chosen on the 21 hard-swish shapes of
    /// PaddleOCR's classifier at batch 16 (<c>training/step_micro.py</c>, medians of interleaved runs): Abs and Less on x,
    /// then the zone as floats, 0.91× the zone read from s (Greater, Less, And); Where(zone, αx, 0) or
    /// Where(zone, s + αx, s) instead of the Cast and Mul were 1.01× and 0.97×.
    /// </summary>
    private string HardSwishPair(NodeProto gate, string dY)
    {
        var s = gate.Output[0];
        var alpha = Attr.Float(gate, "alpha", 0.2f);
        var beta = Attr.Float(gate, "beta", 0.5f);
        if (alpha == 0)
        {
            return e.Node("Mul", [dY, s], "dhardswish_pair");
        }

        var x = gate.Input[0];
        var centre = (0.5f - beta) / alpha;
        var centred = centre == 0 ? x : e.Node("Sub", [x, e.Scalar(centre)], "hsw_xc");
        var zone = e.Node("Less", [e.Node("Abs", [centred], "hsw_abs"), e.Scalar(0.5f / MathF.Abs(alpha))], "hsw_in");
        var linear = e.Node("Mul", [e.Node("Mul", [x, e.Scalar(alpha)], "hsw_ax"), e.Node("Cast", [zone], "hsw_inf", GraphEmitter.Int("to", 1))], "hsw_axm");
        var slope = e.Node("Add", [s, linear], "hsw_slope");
        return e.Node("Mul", [dY, slope], "dhardswish_pair");
    }
}

using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>Compiles an inference model and a <see cref="TrainingSpec"/> into a <see cref="TrainingGraph"/>.</summary>
public static class TrainingCompiler
{
    /// <summary>Compiles the training step.</summary>
    public static TrainingGraph Compile(OnnxModel model, TrainingSpec spec)
    {
        // Every parameter must be its own initializer (un-share Identity views, drop dead code).
        var (clean, _) = GraphEdits.Clean(model, unshareIdentities: true, constantsAsInitializers: true);
        var head = HeadEdits.Find(clean, out _);
        var output = clean.Graph.Output[0].Name;
        var logits = head?.Activation is { } activation ? activation.Input[0] : output;
        if (spec.Loss == LossKind.SigmoidBinaryCrossEntropy && new OnnxGraph(clean.Graph).Producer(output) is { OpType: "Sigmoid" } sigmoid)
        {
            // A binary model that outputs P(class 1): the loss is taken from the logit before its Sigmoid.
            logits = sigmoid.Input[0];
        }

        var selection = spec.Trainable.Count > 0 ? Trainable.ByGlobs(clean, spec.Trainable)
            : spec.UnfreezeFrom is { } from ? Trainable.Downstream(clean, from)
            : Trainable.HeadOnly(clean);
        var shapesAll = ShapeInference.Infer(clean);
        var floatBoundary = selection.Boundary.Where(b => shapesAll[b].ElementType == (int)TensorProto.Types.DataType.Float).ToList();
        if (floatBoundary.Count != 1)
        {
            throw new InvalidOperationException($"the trainable part reads {floatBoundary.Count} tensors from the frozen part ({string.Join(", ", floatBoundary)}); one boundary tensor is supported.");
        }

        var boundary = floatBoundary[0];
        var graph = new OnnxGraph(clean.Graph);

        // A parameter-free Dropout right before the trainable part (e.g. GAP → Dropout → Dense) must run in the step
        // graph to be active while training: the boundary moves to its input.
        while (spec.Dropout && graph.Producer(boundary) is { OpType: "Dropout" } dropout && graph.Consumers(boundary).Count == 1)
        {
            boundary = dropout.Input[0];
        }

        var isModelInput = graph.IsRuntimeInput(boundary);
        var suffix = GraphEdits.Extract(clean, [boundary], [logits]);
        var prefix = isModelInput ? null : GraphEdits.Cut(clean, boundary);

        // The step graph needs opset ≥ 17 (ScatterElements with reduction, axes as inputs).
        var step = OpsetUpgrade.Upgrade(suffix, 17);
        var g = step.Graph;
        var emitter = new GraphEmitter(g);
        var parameters = selection.Parameters.Where(p => g.Initializer.Any(t => t.Name == p)).OrderBy(p => p, StringComparer.Ordinal).ToList();
        foreach (var p in parameters)
        {
            var init = g.Initializer.First(t => t.Name == p);
            g.Initializer.Remove(init);
            g.Input.Add(ShapeInference.ToValueInfo(p, new TensorShape(init.DataType, init.Dims.Select(Dim.Of).ToArray())));
        }

        // The eval graph: the same suffix forward (BN inference mode, dropout off), parameters as inputs.
        var eval = step.Clone();
        var shapes = ShapeInference.Infer(step);
        var region = new OnnxGraph(g).TopologicalOrder();
        foreach (var node in region.Where(n => n.OpType == "MaxPool" && (n.Output.Count < 2 || n.Output[1].Length == 0)))
        {
            if (node.Output.Count < 2)
            {
                node.Output.Add(emitter.Name(node.Output[0] + "_indices"));
            }
            else
            {
                node.Output[1] = emitter.Name(node.Output[0] + "_indices");
            }
        }

        // Training-mode BatchNormalization: batch statistics forward; running statistics become carried state.
        var rules = new BackwardRules(emitter, shapes);
        var updated = new Dictionary<string, string>(StringComparer.Ordinal);
        var running = new List<string>();
        if (spec.BatchNorm == BatchNormMode.Train)
        {
            foreach (var node in region.Where(n => n.OpType == "BatchNormalization"))
            {
                foreach (var (statistic, newValue) in rules.UseBatchStatistics(node))
                {
                    var init = g.Initializer.FirstOrDefault(t => t.Name == statistic)
                        ?? throw BackwardRules.Unsupported(node, $"its running statistic '{statistic}' is not an initializer");
                    g.Initializer.Remove(init);
                    g.Input.Add(ShapeInference.ToValueInfo(statistic, new TensorShape(init.DataType, init.Dims.Select(Dim.Of).ToArray())));
                    eval.Graph.Initializer.Remove(eval.Graph.Initializer.First(t => t.Name == statistic));
                    eval.Graph.Input.Add(g.Input[^1].Clone());
                    updated[statistic] = newValue;
                    running.Add(statistic);
                }
            }
        }

        if (spec.Dropout)
        {
            var ordinal = 0;
            foreach (var node in region.Where(n => n.OpType == "Dropout"))
            {
                rules.UseDropoutMask(node, spec.DropoutSeed, ordinal++);
            }
        }

        // Loss (softmax cross-entropy or sigmoid BCE), mean over the batch, and its gradient in closed form.
        g.Input.Add(ShapeInference.ToValueInfo(TrainingGraph.LabelsInput, new TensorShape((int)TensorProto.Types.DataType.Int64, [Dim.Sym("batch")])));
        g.Input.Add(ShapeInference.ToValueInfo(TrainingGraph.LearningRateInput, new TensorShape((int)TensorProto.Types.DataType.Float, [])));
        g.Input.Add(ShapeInference.ToValueInfo(TrainingGraph.StepInput, new TensorShape((int)TensorProto.Types.DataType.Float, [])));
        var (loss, dLogits) = LossEmitter.Emit(emitter, spec, logits, shapes[logits]);


        // Backward, in reverse topological order, accumulating gradients of shared tensors.
        var parameterSet = parameters.ToHashSet(StringComparer.Ordinal);
        var dependent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in region)
        {
            if (node.Input.Any(i => parameterSet.Contains(i) || dependent.Contains(i)))
            {
                dependent.UnionWith(node.Output.Where(o => o.Length > 0));
            }
        }

        var parts = new Dictionary<string, List<string>>(StringComparer.Ordinal) { [logits] = [dLogits] };
        foreach (var node in region.Reverse())
        {
            if (node.Output.Count == 0 || !parts.TryGetValue(node.Output[0], out var incoming))
            {
                continue;
            }

            if (!BackwardRules.Supported.Contains(node.OpType))
            {
                throw BackwardRules.Unsupported(node, "no backward rule for this operator");
            }

            var dY = Sum(emitter, incoming);
            foreach (var (index, gradient) in rules.Apply(node, dY, i => i < node.Input.Count && (parameterSet.Contains(node.Input[i]) || dependent.Contains(node.Input[i]))))
            {
                var input = node.Input[index];
                if (!parts.TryGetValue(input, out var list))
                {
                    parts[input] = list = [];
                }

                list.Add(gradient);
            }
        }

        var state = new List<string>();
        g.Output.Clear();
        g.Output.Add(ShapeInference.ToValueInfo(TrainingGraph.LossOutput, new TensorShape((int)TensorProto.Types.DataType.Float, [])));
        emitter.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "/train/loss_out", Input = { loss }, Output = { TrainingGraph.LossOutput } });
        emitter.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "/train/logits_out", Input = { logits }, Output = { TrainingGraph.LogitsOutput } });
        g.Output.Add(new ValueInfoProto { Name = TrainingGraph.LogitsOutput });
        var gradients = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (!parts.TryGetValue(p, out var gradParts))
            {
                throw new InvalidOperationException($"parameter '{p}' receives no gradient from the loss.");
            }

            gradients[p] = Sum(emitter, gradParts);
            if (spec.ExposeGradients)
            {
                var name = "grad:" + p;
                g.Node.Add(new NodeProto { OpType = "Identity", Name = "/train/" + name, Input = { gradients[p] }, Output = { name } });
                g.Output.Add(new ValueInfoProto { Name = name });
            }
        }

        var optimizer = new OptimizerEmitter(emitter, spec);
        if (spec.ClipGradNorm > 0)
        {
            gradients = optimizer.ClipByGlobalNorm(gradients, spec.ClipGradNorm);
        }

        var groupOf = GroupParameters(clean, spec.LearningRateGroups, parameters);
        foreach (var group in spec.LearningRateGroups)
        {
            g.Input.Add(ShapeInference.ToValueInfo(TrainingGraph.LearningRateInputOf(group.Name), new TensorShape((int)TensorProto.Types.DataType.Float, [])));
        }

        foreach (var p in parameters)
        {
            var lr = groupOf.TryGetValue(p, out var group) ? TrainingGraph.LearningRateInputOf(group) : TrainingGraph.LearningRateInput;
            foreach (var (stateName, newName) in optimizer.Update(p, gradients[p], lr, updated))
            {
                state.Add(stateName);
                var info = g.Input.First(i => i.Name == p).Clone();
                info.Name = stateName;
                g.Input.Add(info);
                g.Output.Add(new ValueInfoProto { Name = newName });
            }

            g.Output.Add(new ValueInfoProto { Name = updated[p] });
        }

        optimizer.Finish();
        foreach (var statistic in running)
        {
            g.Output.Add(new ValueInfoProto { Name = updated[statistic] });
        }

        new OnnxGraph(g).Validate();
        return new TrainingGraph(step, prefix, boundary, parameters, state, updated, logits)
        {
            LearningRateGroups = spec.LearningRateGroups,
            ParameterGroups = groupOf,
            RunningStatistics = running,
            Eval = BuildEval(eval, spec, logits, shapes[logits]),
        };
    }

    /// <summary>Adds labels, the loss and the logits output to the eval copy of the suffix.</summary>
    private static OnnxModel BuildEval(OnnxModel eval, TrainingSpec spec, string logits, TensorShape logitsShape)
    {
        var g = eval.Graph;
        g.Input.Add(ShapeInference.ToValueInfo(TrainingGraph.LabelsInput, new TensorShape((int)TensorProto.Types.DataType.Int64, [Dim.Sym("batch")])));
        var (loss, _) = LossEmitter.Emit(new GraphEmitter(g), spec, logits, logitsShape);
        g.Output.Clear();
        g.Node.Add(new NodeProto { OpType = "Identity", Name = "/eval/loss_out", Input = { loss }, Output = { TrainingGraph.LossOutput } });
        g.Node.Add(new NodeProto { OpType = "Identity", Name = "/eval/logits_out", Input = { logits }, Output = { TrainingGraph.LogitsOutput } });
        g.Output.Add(ShapeInference.ToValueInfo(TrainingGraph.LossOutput, new TensorShape((int)TensorProto.Types.DataType.Float, [])));
        g.Output.Add(new ValueInfoProto { Name = TrainingGraph.LogitsOutput });
        new OnnxGraph(g).RemoveDeadCode();
        new OnnxGraph(g).Validate();
        return eval;
    }

    /// <summary>Each trainable parameter's learning-rate group (the first whose globs match it); ungrouped parameters are absent.</summary>
    private static Dictionary<string, string> GroupParameters(OnnxModel model, IReadOnlyList<LearningRateGroup> groups, IReadOnlyList<string> parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            if (string.IsNullOrWhiteSpace(group.Name) || !names.Add(group.Name))
            {
                throw new ArgumentException($"learning-rate group names must be non-empty and distinct; '{group.Name}' is not.");
            }

            if (group.Multiplier is not (>= 0 and < float.PositiveInfinity))
            {
                throw new ArgumentException($"learning-rate group '{group.Name}': the multiplier must be a finite number ≥ 0, not {group.Multiplier}.");
            }

            var matched = Trainable.ByGlobs(model, group.Globs).Parameters;
            var members = parameters.Where(p => matched.Contains(p) && !result.ContainsKey(p)).ToList();
            if (members.Count == 0)
            {
                throw new ArgumentException($"learning-rate group '{group.Name}' ({string.Join(",", group.Globs)}) matches no trainable parameter that an earlier group has not taken.");
            }

            foreach (var p in members)
            {
                result[p] = group.Name;
            }
        }

        return result;
    }

    private static string Sum(GraphEmitter e, List<string> parts) => parts.Count == 1 ? parts[0] : e.Node("Sum", parts, "grad_sum");
}

using OnnxCnn.Graphs;

namespace OnnxCnn.Training.Internal;

/// <summary>Emits the loss (mean over the batch) and its gradient with respect to the logits, in closed form.</summary>
internal static class LossEmitter
{
    /// <summary>Returns the scalar loss tensor and dLoss/dLogits (same shape as the logits).</summary>
    public static (string Loss, string DLogits) Emit(GraphEmitter e, TrainingSpec spec, string logits, TensorShape shape) => spec.Loss switch
    {
        LossKind.SoftmaxCrossEntropy => SoftmaxCrossEntropy(e, spec, logits, shape),
        LossKind.SigmoidBinaryCrossEntropy => SigmoidBinaryCrossEntropy(e, spec, logits, shape),
        var k => throw new ArgumentOutOfRangeException(nameof(spec), k, "unknown loss"),
    };

    private static (string, string) SoftmaxCrossEntropy(GraphEmitter e, TrainingSpec spec, string logits, TensorShape shape)
    {
        var classes = shape.Dims is { Length: 2 } d && d[1].IsKnown ? d[1].Value
            : throw new InvalidOperationException($"logits '{logits}' must be [batch, classes] with a known class count, not {shape}.");
        var labels = TrainingGraph.LabelsInput;
        var onehot = e.Node("OneHot", [labels, e.Longs("depth", classes), e.Floats("onehot_values", [0f, 1f], 2)], "onehot", GraphEmitter.Int("axis", -1));
        var target = spec.LabelSmoothing > 0
            ? e.Node("Add", [e.Node("Mul", [onehot, e.Scalar(1 - spec.LabelSmoothing)], "smooth"), e.Scalar(spec.LabelSmoothing / classes)], "target")
            : onehot;
        var logp = e.Node("LogSoftmax", [logits], "logp", GraphEmitter.Int("axis", 1));
        var perSample = e.Node("ReduceSum", [e.Node("Mul", [target, logp], "tlogp"), e.Longs("axes", 1)], "nll", GraphEmitter.Int("keepdims", 0));
        var difference = e.Node("Sub", [e.Node("Softmax", [logits], "probs", GraphEmitter.Int("axis", 1)), target], "p_minus_t");
        if (spec.ClassWeights is { } weights)
        {
            if (weights.Count != classes)
            {
                throw new ArgumentException($"{weights.Count} class weights for {classes} classes.");
            }

            // PyTorch: Σ w[yᵢ]·nllᵢ / Σ w[yᵢ]; the gradient of each row is scaled by w[yᵢ] / Σ w.
            var w = e.Node("Gather", [e.Floats("class_weights", [.. weights], classes), labels], "sample_w", GraphEmitter.Int("axis", 0));
            var total = e.Node("ReduceSum", [w], "w_total", GraphEmitter.Int("keepdims", 0));
            var loss = e.Node("Neg", [e.Node("Div", [e.Node("ReduceSum", [e.Node("Mul", [perSample, w], "w_nll")], "w_sum", GraphEmitter.Int("keepdims", 0)), total], "w_mean")], "loss");
            var scale = e.Node("Unsqueeze", [e.Node("Div", [w, total], "w_scale"), e.Longs("w_axis", 1)], "w_col");
            return (loss, e.Node("Mul", [difference, scale], "dlogits"));
        }

        var mean = e.Node("Neg", [e.Node("ReduceMean", [perSample], "mean_nll", GraphEmitter.Int("keepdims", 0))], "loss");
        var batch = e.Node("Cast", [e.Node("Slice", [e.ShapeOf(logits), e.Longs("b0", 0), e.Longs("b1", 1)], "batch")], "batchf", GraphEmitter.Int("to", 1));
        return (mean, e.Node("Div", [difference, batch], "dlogits"));
    }

    /// <summary>
    /// BCEWithLogitsLoss in its stable form: lᵢ = (1−y)·x + lw·(max(−x, 0) + log(1 + e^−|x|)) with lw = 1 + (pos_weight − 1)·y,
    /// times the sample's class weight, averaged over the batch; dl/dx = (1 − y) + lw·(σ(x) − 1), likewise scaled.
    /// </summary>
    private static (string, string) SigmoidBinaryCrossEntropy(GraphEmitter e, TrainingSpec spec, string logits, TensorShape shape)
    {
        var rank2 = IsColumn(spec, logits, shape);
        var labels = TrainingGraph.LabelsInput;
        var y = e.Node("Cast", [labels], "y", GraphEmitter.Int("to", 1));
        if (rank2)
        {
            y = e.Node("Unsqueeze", [y, e.Longs("y_axis", 1)], "y_col");
        }

        if (spec.LabelSmoothing > 0)
        {
            y = e.Node("Add", [e.Node("Mul", [y, e.Scalar(1 - spec.LabelSmoothing)], "y_smooth"), e.Scalar(spec.LabelSmoothing / 2)], "y_target");
        }

        var oneMinusY = e.Node("Sub", [e.Scalar(1), y], "one_minus_y");
        var softplusNeg = e.Node("Add",
            [e.Node("Relu", [e.Node("Neg", [logits], "neg_x")], "relu_neg_x"), e.Node("Log", [e.Node("Add", [e.Scalar(1), e.Node("Exp", [e.Node("Neg", [e.Node("Abs", [logits], "abs_x")], "neg_abs")], "exp_neg_abs")], "one_plus")], "log1p")],
            "softplus_neg_x");
        var sigmoidMinusOne = e.Node("Sub", [e.Node("Sigmoid", [logits], "sigma"), e.Scalar(1)], "sigma_m1");
        string term = softplusNeg, slope = sigmoidMinusOne;
        if (spec.PositiveWeight != 1)
        {
            var lw = e.Node("Add", [e.Node("Mul", [y, e.Scalar(spec.PositiveWeight - 1)], "pw_y"), e.Scalar(1)], "log_weight");
            term = e.Node("Mul", [lw, softplusNeg], "lw_sp");
            slope = e.Node("Mul", [lw, sigmoidMinusOne], "lw_slope");
        }

        var perSample = e.Node("Add", [e.Node("Mul", [oneMinusY, logits], "one_minus_y_x"), term], "bce");
        var gradient = e.Node("Add", [oneMinusY, slope], "dbce");
        if (spec.ClassWeights is { } weights)
        {
            if (weights.Count != 2)
            {
                throw new ArgumentException($"{weights.Count} class weights for binary cross-entropy (it needs 2).");
            }

            var w = e.Node("Gather", [e.Floats("class_weights", [.. weights], 2), labels], "sample_w", GraphEmitter.Int("axis", 0));
            if (rank2)
            {
                w = e.Node("Unsqueeze", [w, e.Longs("w_axis", 1)], "w_col");
            }

            perSample = e.Node("Mul", [perSample, w], "w_bce");
            gradient = e.Node("Mul", [gradient, w], "w_dbce");
        }

        var loss = e.Node("ReduceMean", [perSample], "loss", GraphEmitter.Int("keepdims", 0));
        var count = e.Node("Cast", [e.Node("Size", [logits], "count")], "countf", GraphEmitter.Int("to", 1));
        return (loss, e.Node("Div", [gradient, count], "dlogits"));
    }

    /// <summary>Whether binary logits are a [batch, 1] column (else [batch]); anything else, or a bad positive-class weight, is refused.</summary>
    private static bool IsColumn(TrainingSpec spec, string logits, TensorShape shape)
    {
        var column = shape.Dims switch
        {
            { Length: 1 } => false,
            { Length: 2 } d when d[1].IsKnown && d[1].Value == 1 => true,
            _ => throw new InvalidOperationException($"binary cross-entropy needs one logit per sample ([batch, 1] or [batch]); '{logits}' is {shape}."),
        };
        if (spec.PositiveWeight is not (> 0 and < float.PositiveInfinity))
        {
            throw new ArgumentException($"the positive-class weight must be a positive number, not {spec.PositiveWeight}.");
        }

        return column;
    }
}

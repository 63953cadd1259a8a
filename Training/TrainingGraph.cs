using OnnxCnn.Graphs;

namespace OnnxCnn.Training;

/// <summary>
/// A compiled training step: one plain ONNX graph (standard ai.onnx operators only) taking the
/// batch at the freeze boundary, labels, the trainable parameters, the optimiser state, the
/// learning rate and the step number, and giving the loss, the logits, the updated parameters and
/// the updated state. The frozen prefix (if any) is a separate inference model.
/// </summary>
public sealed class TrainingGraph
{
    internal TrainingGraph(OnnxModel step, OnnxModel? prefix, string input, IReadOnlyList<string> parameters, IReadOnlyList<string> state,
        IReadOnlyDictionary<string, string> updated, string logitsTensor)
    {
        Step = step;
        Prefix = prefix;
        Input = input;
        Parameters = parameters;
        State = state;
        UpdatedOutputs = updated;
        LogitsTensor = logitsTensor;
    }

    /// <summary>Name of the labels input (int64 [N]).</summary>
    public const string LabelsInput = "labels";

    /// <summary>Name of the learning-rate input (float scalar).</summary>
    public const string LearningRateInput = "learning_rate";

    /// <summary>The learning-rate input of a parameter group (float scalar).</summary>
    public static string LearningRateInputOf(string group) => LearningRateInput + ":" + group;

    /// <summary>Parameter groups with their own learning-rate inputs (see <see cref="LearningRateInputOf"/>).</summary>
    public IReadOnlyList<LearningRateGroup> LearningRateGroups { get; internal init; } = [];

    /// <summary>The group of each grouped parameter; parameters not listed use <see cref="LearningRateInput"/>.</summary>
    public IReadOnlyDictionary<string, string> ParameterGroups { get; internal init; } = new Dictionary<string, string>();

    /// <summary>Name of the step input (float scalar, 1 for the first step).</summary>
    public const string StepInput = "step";

    /// <summary>Name of the loss output (float scalar).</summary>
    public const string LossOutput = "loss";

    /// <summary>Name of the logits output.</summary>
    public const string LogitsOutput = "logits_out";

    /// <summary>The training-step graph.</summary>
    public OnnxModel Step { get; }

    /// <summary>
    /// The eval graph: the step graph's forward with BatchNorm in inference mode and dropout off,
    /// taking the same input, labels, parameters (and running statistics) and giving only the loss
    /// and the logits, so current values are evaluated without exporting a model.
    /// </summary>
    public OnnxModel Eval { get; internal init; } = null!;

    /// <summary>The frozen part up to <see cref="Input"/>, or null when everything from the model input trains.</summary>
    public OnnxModel? Prefix { get; }

    /// <summary>The tensor the step graph starts from (the model input, or the freeze boundary).</summary>
    public string Input { get; }

    /// <summary>Trainable parameters (graph inputs of the step, in order).</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>Optimiser state inputs (zeros before the first step).</summary>
    public IReadOnlyList<string> State { get; }

    /// <summary>BatchNormalization running means and variances carried between steps (training-mode BN), initialised from the model.</summary>
    public IReadOnlyList<string> RunningStatistics { get; internal init; } = [];

    /// <summary>For each parameter, state input and running statistic, the output holding its new value.</summary>
    public IReadOnlyDictionary<string, string> UpdatedOutputs { get; }

    /// <summary>The tensor of the original model whose value the loss is computed from (before any final Softmax).</summary>
    public string LogitsTensor { get; }
}

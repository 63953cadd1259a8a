namespace OnnxCnn.Training;

/// <summary>
/// How the settings are named in <see cref="FineTuner.Validate"/>'s messages: each rule has one message, written
/// with these names, so a library caller reads "dropout must be in [0, 1)" and the command line "--dropout must be
/// in [0, 1)" from the same check.
/// </summary>
public sealed record FineTuneSettingNames
{
    /// <summary>The names of the library's settings (the default).</summary>
    public static FineTuneSettingNames Library { get; } = new();

    /// <summary>The new head's dropout.</summary>
    public string Dropout { get; init; } = "dropout";

    /// <summary>The new head's hidden layers.</summary>
    public string Hidden { get; init; } = "hidden";

    /// <summary>Keeping the model's own classifier head.</summary>
    public string KeepHead { get; init; } = "the model's own head (no new head)";

    /// <summary>The training mode that runs every image through the whole network each epoch.</summary>
    public string EndToEndMode { get; init; } = "TrainingMode.EndToEnd";

    /// <summary>The binary loss.</summary>
    public string BinaryLoss { get; init; } = "binary cross-entropy";

    /// <summary>A separate validation set.</summary>
    public string SeparateValidation { get; init; } = "a separate validation set";

    /// <summary>K-fold cross-validation.</summary>
    public string KFold { get; init; } = "K-fold cross-validation";

    /// <summary>K, the number of folds of a K-fold cross-validation.</summary>
    public string Folds { get; init; } = "the fold count";

    /// <summary>The two-stage recipe.</summary>
    public string TwoStage { get; init; } = "the two-stage recipe";

    /// <summary>What a stage-2 selection can be.</summary>
    public string Stage2Selection { get; init; } = "trainable globs or a tensor to unfreeze from";

    /// <summary>Stage 1's epochs.</summary>
    public string Stage1Epochs { get; init; } = "stage 1's epochs";

    /// <summary>Stage 2's epochs.</summary>
    public string Stage2Epochs { get; init; } = "stage 2's epochs";

    /// <summary>Epochs.</summary>
    public string Epochs { get; init; } = "epochs";

    /// <summary>Batch size.</summary>
    public string BatchSize { get; init; } = "the batch size";

    /// <summary>Gradient clipping.</summary>
    public string ClipGradNorm { get; init; } = "the gradient-clipping norm";

    /// <summary>Stage 2's learning rate.</summary>
    public string Stage2LearningRate { get; init; } = "stage 2's learning rate";
}

namespace OnnxCnn.Training;

/// <summary>A K-fold cross-validation: every fold's result and their mean ± std.</summary>
/// <param name="Folds">The folds, in order.</param>
public sealed record CrossValidationResult(IReadOnlyList<FoldResult> Folds)
{
    /// <summary>Validation accuracy over folds.</summary>
    public MeanStd Accuracy => MeanStd.Of(Folds.Select(f => f.ValidationAccuracy).ToList());

    /// <summary>Validation loss over folds.</summary>
    public MeanStd Loss => MeanStd.Of(Folds.Select(f => f.ValidationLoss).ToList());

    /// <summary>Validation macro-F1 over folds.</summary>
    public MeanStd MacroF1 => MeanStd.Of(Folds.Select(f => f.MacroF1).ToList());
}

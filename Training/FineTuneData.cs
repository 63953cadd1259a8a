using System.Diagnostics.CodeAnalysis;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training;

/// <summary>
/// The images of a fine-tune: the training set and, optionally, a separate labelled set to validate on (HF Trainer's
/// train and eval datasets). Data, not settings: it goes with the run, next to its <see cref="FineTuneOptions"/>.
/// A training set alone converts to this implicitly.
/// </summary>
public sealed record FineTuneData
{
    /// <summary>The data of a run on <paramref name="train"/>, validated on <paramref name="validation"/> when given.</summary>
    /// <param name="train">The training set (a folder per class).</param>
    /// <param name="validation">
    /// A separate labelled set to validate on (its classes must equal the training set's, in order), or null to hold out
    /// <see cref="FineTuneOptions.ValidationSplit"/> of the training set. Not with K-fold cross-validation.
    /// </param>
    public FineTuneData(ImageDataset train, ImageDataset? validation = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        Train = train;
        Validation = validation;
    }

    /// <summary>The training set.</summary>
    public ImageDataset Train { get; }

    /// <summary>The separate validation set, or null.</summary>
    public ImageDataset? Validation { get; }

    /// <summary>The data of a run on <paramref name="train"/> alone (null stays null).</summary>
    [return: NotNullIfNotNull(nameof(train))]
    public static implicit operator FineTuneData?(ImageDataset? train) => FromImageDataset(train);

    /// <summary>The data of a run on <paramref name="train"/> alone (null stays null).</summary>
    [return: NotNullIfNotNull(nameof(train))]
    public static FineTuneData? FromImageDataset(ImageDataset? train) => train is null ? null : new FineTuneData(train);
}

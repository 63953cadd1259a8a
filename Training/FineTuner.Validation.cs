using System.Globalization;
using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Internal;

namespace OnnxCnn.Training;

/// <summary>The one place a run's settings are checked, and the training sessions' options.</summary>
public static partial class FineTuner
{
    /// <summary>
    /// Checks <paramref name="options"/> against each other, the model and the data before anything runs or is
    /// written — one rule, one message, named with <paramref name="names"/>: the loss against the class count, the
    /// new head, a separate validation set, dropout, the mode, the cache budget, the input size, epochs and batch,
    /// the two-stage recipe, and with <paramref name="kFold"/> the fold count (2 to the number of training images)
    /// and its combinations. Copies nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A setting that cannot work, named in the message.</exception>
    public static void Validate(OnnxModel model, FineTuneData data, FineTuneOptions options, int? kFold = null, FineTuneSettingNames? names = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var n = names ?? FineTuneSettingNames.Library;
        CheckFolds(data, kFold, n);
        CheckClasses(data, options, kFold, n);
        CheckTraining(options, n);
        ModelInput.CheckSize(model, options);
    }

    /// <summary>K-fold needs two folds at least, and an image for every fold (each fold is held out once).</summary>
    private static void CheckFolds(FineTuneData data, int? kFold, FineTuneSettingNames n)
    {
        if (kFold is not { } k)
        {
            return;
        }

        if (k < 2)
        {
            throw new ArgumentException($"{n.Folds} must be at least 2, got {k}.");
        }

        if (k > data.Train.Items.Count)
        {
            throw new ArgumentException($"{n.Folds} {k} needs at least {k} images; the data has {data.Train.Items.Count}.");
        }
    }

    private static void CheckClasses(FineTuneData data, FineTuneOptions options, int? kFold, FineTuneSettingNames n)
    {
        var train = data.Train;
        var classes = train.Classes.Count;
        if (options.Spec.Loss == LossKind.SigmoidBinaryCrossEntropy && classes != 2)
        {
            throw new ArgumentException($"{n.BinaryLoss} needs exactly 2 classes; the data has {classes} ({string.Join(", ", train.Classes)}).");
        }

        if (options.NewHeadClasses is { } requested && requested != classes)
        {
            throw new ArgumentException($"the new head has {requested} classes but the data has {classes} ({string.Join(", ", train.Classes)}).");
        }

        if (data.Validation is { } validation)
        {
            if (!validation.Classes.SequenceEqual(train.Classes, StringComparer.Ordinal))
            {
                throw new ArgumentException($"the validation data's classes ({string.Join(", ", validation.Classes)}) differ from the training data's ({string.Join(", ", train.Classes)}); both need the same class folders.");
            }

            if (kFold is not null)
            {
                throw new ArgumentException($"{n.SeparateValidation} cannot be combined with {n.KFold}: it holds out each fold in turn.");
            }
        }
    }

    private static void CheckTraining(FineTuneOptions options, FineTuneSettingNames n)
    {
        if (options.Epochs < 1 || options.BatchSize < 1)
        {
            throw new ArgumentException($"{n.Epochs} and {n.BatchSize} must be at least 1, got {options.Epochs} and {options.BatchSize}.");
        }

        if (options.Spec.ClipGradNorm is < 0 or float.NaN)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{n.ClipGradNorm} must be 0 or more, got {options.Spec.ClipGradNorm}."));
        }

        if (options.Dropout is < 0 or >= 1 || float.IsNaN(options.Dropout))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{n.Dropout} must be in [0, 1), got {options.Dropout}."));
        }

        if (options.Dropout > 0 && options.NewHeadClasses is null)
        {
            throw new ArgumentException($"dropout belongs to a new head (before its classifier, or after each {n.Hidden} layer); it cannot be used with {n.KeepHead}.");
        }

        if (options.Mode == TrainingMode.FeatureCache && options.Augment is not null)
        {
            throw new ArgumentException($"feature-cache mode needs the same input every epoch; augmentation changes it (use {n.EndToEndMode}).");
        }

        if (options.CacheMemoryBytes < 0)
        {
            throw new ArgumentException($"the feature cache's memory budget must be 0 or more bytes, got {options.CacheMemoryBytes}.");
        }

        if (options.SecondStage is { } second)
        {
            if (second.Trainable.Count == 0 && second.UnfreezeFrom is null)
            {
                throw new ArgumentException($"{n.TwoStage} needs a stage-2 selection: {n.Stage2Selection} (stage 1 trains the head only).");
            }

            if (second.Epochs < 1 || options.Epochs < 1)
            {
                throw new ArgumentException($"{n.Stage1Epochs} and {n.Stage2Epochs} must be at least 1, got {options.Epochs} and {second.Epochs}.");
            }

            if (second.LearningRate is < 0 or float.NaN)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{n.Stage2LearningRate} must not be negative, got {second.LearningRate}."));
            }
        }
    }

    /// <summary>
    /// The options of the training sessions (frozen prefix and step): on CUDA a node without a CUDA kernel is an error
    /// instead of a silent copy to the CPU every step (<see cref="SessionOptions.DisableCpuFallbackKey"/> = 1). A copy;
    /// <paramref name="options"/> is left unchanged.
    /// </summary>
    public static SessionOptions? TrainingSessionOptions(SessionOptions? options)
    {
        if (options is null || options.Device.Kind != DeviceKind.Cuda)
        {
            return options;
        }

        var copy = options.Clone();
        copy.ConfigEntries[SessionOptions.DisableCpuFallbackKey] = "1";
        return copy;
    }
}

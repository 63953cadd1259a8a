using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// What a stage trains — the model at its input size with its new head, the final training spec, the
/// preprocessing — and on what: the training and validation indices. Prepared once, before any session opens.
/// </summary>
internal sealed record StagePlan(OnnxModel Model, TrainingSpec Spec, PreprocessSpec Preprocess, int[] Train, int[] Validation, ImageDataset ValidationSet, bool Binary)
{
    public static StagePlan Prepare(OnnxModel model, FineTuneData data, FineTuneOptions options, RunContext run)
    {
        var binary = options.Spec.Loss == LossKind.SigmoidBinaryCrossEntropy;
        var (sized, preprocess) = ModelInput.AtInputSize(model, options);
        var headed = WithNewHead(sized, options, binary);
        var (train, validation) = Split(data, options, run);
        var spec = options.Spec;
        if (options.ClassWeights)
        {
            spec = spec with { ClassWeights = [.. Splits.ClassWeights(train.Select(i => data.Train.Items[i].Label).ToArray(), data.Train.Classes.Count)] };
        }

        return new StagePlan(headed, WithHeadTrainable(spec, options, sized, headed), preprocess, train, validation, data.Validation ?? data.Train, binary);
    }

    /// <summary>The model with the new head <see cref="FineTuneOptions.NewHeadClasses"/> asks for; a binary head has one output unit, its logit for the second class.</summary>
    private static OnnxModel WithNewHead(OnnxModel model, FineTuneOptions options, bool binary) =>
        options.NewHeadClasses is { } n
            ? HeadEdits.Replace(model, new HeadSpec { Classes = binary && n == 2 ? 1 : n, Hidden = options.Hidden, Dropout = options.Dropout, Seed = options.Seed, Pool = options.Pool })
            : model;

    /// <summary>
    /// A new head always trains: with a selection its parameters join it; head-only with hidden layers trains all of
    /// them (the head the compiler finds by itself is only the last dense layer). The new head's parameters are the
    /// initializers the head edit added or changed (a model fine-tuned before may have had a head of the same names).
    /// </summary>
    private static TrainingSpec WithHeadTrainable(TrainingSpec spec, FineTuneOptions options, OnnxModel before, OnnxModel headed)
    {
        if (options.NewHeadClasses is null)
        {
            return spec;
        }

        var old = before.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var head = headed.Graph.Initializer.Where(t => !old.TryGetValue(t.Name, out var was) || !was.Equals(t)).Select(t => t.Name).ToList();
        if (spec.Trainable.Count > 0)
        {
            return spec with { Trainable = [.. spec.Trainable, .. head.Except(spec.Trainable, StringComparer.Ordinal)] };
        }

        return options.Hidden.Count > 0 && spec.UnfreezeFrom is null ? spec with { Trainable = head } : spec;
    }

    /// <summary>A separate validation set is evaluated whole; otherwise a K-fold's fold, or a stratified split of the training data.</summary>
    private static (int[] Train, int[] Validation) Split(FineTuneData data, FineTuneOptions options, RunContext run)
    {
        var all = Enumerable.Range(0, data.Train.Items.Count).ToArray();
        return data.Validation is { } separate ? (all, Enumerable.Range(0, separate.Items.Count).ToArray())
            : run.Split is { } split ? split
            : options.ValidationSplit > 0 ? Splits.Stratified(data.Train.Labels, options.ValidationSplit, options.Seed)
            : (all, []);
    }
}

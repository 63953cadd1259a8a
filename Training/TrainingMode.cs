namespace OnnxCnn.Training;

/// <summary>How the frozen prefix is run.</summary>
public enum TrainingMode
{
    /// <summary>Feature cache when there is a frozen prefix and no augmentation, else end to end.</summary>
    Auto,
    /// <summary>Run the frozen prefix once per image (first epoch) and train on its cached output.</summary>
    FeatureCache,
    /// <summary>Run the whole model every step (needed with augmentation).</summary>
    EndToEnd,
}

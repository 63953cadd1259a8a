namespace OnnxCnn.Graphs.Zoo;

/// <summary>
/// How <see cref="ModelZoo.Build"/> sizes and initialises a model. The defaults give
/// torchvision's model as published: 1000 classes, full width, 224×224 input.
/// </summary>
public sealed record ZooOptions
{
    /// <summary>Number of output classes (the width of <c>logits</c>); at least 1. Default 1000.</summary>
    public int Classes { get; init; } = 1000;

    /// <summary>
    /// Scales every convolution's channel count and VGG's two 4096-wide hidden layers, rounding
    /// to the nearest integer (halves away from zero) and keeping at least 1, so tests can build
    /// tiny models with the real topology and parameter names. A positive finite number; default 1.
    /// </summary>
    public double WidthMultiplier { get; init; } = 1.0;

    /// <summary>
    /// Height of the graph input; at least 1. Default 224. VGG accepts only heights whose feature
    /// map after its five 2×2 max pools is 7 or a multiple of 7 (224 to 255, 448 to 479, …).
    /// </summary>
    public int InputHeight { get; init; } = 224;

    /// <summary>Width of the graph input, under the same rules as <see cref="InputHeight"/>. Default 224.</summary>
    public int InputWidth { get; init; } = 224;

    /// <summary>Seed of the weight initialisation: the same seed gives the same bytes. Default 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (Classes < 1)
        {
            throw new ArgumentException($"ZooOptions.Classes must be at least 1, got {Classes}.", "options");
        }

        if (!double.IsFinite(WidthMultiplier) || WidthMultiplier <= 0)
        {
            throw new ArgumentException($"ZooOptions.WidthMultiplier must be a positive finite number, got {WidthMultiplier}.", "options");
        }

        if (InputHeight < 1)
        {
            throw new ArgumentException($"ZooOptions.InputHeight must be at least 1, got {InputHeight}.", "options");
        }

        if (InputWidth < 1)
        {
            throw new ArgumentException($"ZooOptions.InputWidth must be at least 1, got {InputWidth}.", "options");
        }
    }
}

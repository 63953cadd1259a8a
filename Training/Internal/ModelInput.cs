using System.Globalization;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training.Internal;

/// <summary>The model's image input against the preprocessing: the training input size and its checks.</summary>
internal static class ModelInput
{
    /// <summary>
    /// The model and preprocessing at <see cref="FineTuneOptions.InputSize"/>: the model's spatial input dims set by the
    /// validated <see cref="InputSizeEdit"/>, the preprocessing resized (both unchanged without one).
    /// </summary>
    public static (OnnxModel Model, PreprocessSpec Preprocess) AtInputSize(OnnxModel model, FineTuneOptions options)
    {
        if (options.InputSize is not { } size)
        {
            return (model, options.Preprocess);
        }

        var preprocess = Resized(options.Preprocess, size.Height, size.Width);
        return InputSizeEdit.SpatialDims(model, preprocess.Nhwc) is var (h, w) && (h.DimValue != size.Height || w.DimValue != size.Width)
            ? (InputSizeEdit.SetSpatialSize(model, size.Height, size.Width, preprocess.Nhwc), preprocess)
            : (model, preprocess);
    }

    /// <summary>
    /// Checks that the preprocessing gives the size the model takes (without an input size the model keeps its
    /// own, so a fixed spatial dim must match the spec's); nothing is copied.
    /// </summary>
    public static void CheckSize(OnnxModel model, FineTuneOptions options)
    {
        if (options.InputSize is { } size)
        {
            if (size.Height < 1 || size.Width < 1)
            {
                throw new ArgumentException($"the input size must be at least 1x1, got {size.Height}x{size.Width}.");
            }

            FixedSize(Resized(options.Preprocess, size.Height, size.Width));
            return;
        }

        var (height, width) = FixedSize(options.Preprocess);
        if (InputSizeEdit.SpatialDims(model, options.Preprocess.Nhwc) is var (h, w)
            && ((h.DimValue > 0 && h.DimValue != height) || (w.DimValue > 0 && w.DimValue != width)))
        {
            throw new ArgumentException($"the model's input '{InputName(model)}' is {Text(h)}x{Text(w)} but the preprocessing gives {height}x{width}; set the input size (--input-size) or a preprocessing spec of that size.");
        }
    }

    /// <summary>A spec whose output is H×W: a fixed-size spec keeps its proportions (crop and the resize before it scale together), any other resizes exactly.</summary>
    public static PreprocessSpec Resized(PreprocessSpec spec, int height, int width)
    {
        if (spec.CropHeight > 0)
        {
            var ry = (double)height / spec.CropHeight;
            var rx = (double)width / spec.CropWidth;
            int Scale(int v, double r) => Math.Max(1, (int)Math.Ceiling((v * r) - 1e-9));
            return spec.Resize switch
            {
                ResizeMode.ShorterSide => spec with { ResizeHeight = Scale(spec.ResizeHeight, Math.Max(ry, rx)), CropHeight = height, CropWidth = width },
                ResizeMode.Exact or ResizeMode.Fit => spec with { ResizeHeight = Scale(spec.ResizeHeight, ry), ResizeWidth = Scale(spec.ResizeWidth, rx), CropHeight = height, CropWidth = width },
                _ => spec with { CropHeight = height, CropWidth = width },
            };
        }

        return spec with { Resize = spec.Resize == ResizeMode.Fit ? ResizeMode.Fit : ResizeMode.Exact, ResizeHeight = height, ResizeWidth = width };
    }

    /// <summary>The size a spec's batches have (as the batch pipeline computes it).</summary>
    public static (int Height, int Width) FixedSize(PreprocessSpec spec) =>
        spec.CropHeight > 0 ? (spec.CropHeight, spec.CropWidth)
        : spec.Resize is ResizeMode.Exact or ResizeMode.Fit ? (spec.ResizeHeight, spec.ResizeWidth)
        : throw new ArgumentException($"preprocess spec '{spec}' does not give a fixed size; give resize=HxW, fit=HxW or crop=HxW, or an input size (--input-size).");

    private static string InputName(OnnxModel model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Input.First(i => !initializers.Contains(i.Name)).Name;
    }

    private static string Text(TensorShapeProto.Types.Dimension d) => d.DimValue > 0 ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.DimParam is { Length: > 0 } p ? p : "?";
}

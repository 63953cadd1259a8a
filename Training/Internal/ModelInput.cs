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
    /// The model and preprocessing at <see cref="FineTuneOptions.InputSize"/> (the model's spatial input dims set by the
    /// validated <see cref="GraphEdits.SetInputSize"/>, the preprocessing resized); without one, a model whose spatial
    /// dims are symbolic is set to the size a fixed-size preprocessing spec gives (training graphs need known sizes).
    /// </summary>
    /// <exception cref="ArgumentException">The graph cannot take that size.</exception>
    public static (OnnxModel Model, PreprocessSpec Preprocess) AtInputSize(OnnxModel model, FineTuneOptions options)
    {
        var preprocess = options.InputSize is { } size ? Resized(options.Preprocess, size.Height, size.Width) : options.Preprocess;
        return SizeChange(model, options, preprocess) is var (height, width) ? (SetInputSize(model, height, width), preprocess) : (model, preprocess);
    }

    /// <summary>
    /// Checks that the preprocessing gives the size the model takes: with an input size, that the graph can take it
    /// (the only case that copies the model); without one, that a fixed spatial dim matches the spec's.
    /// </summary>
    public static void CheckSize(OnnxModel model, FineTuneOptions options)
    {
        if (options.InputSize is { } size && (size.Height < 1 || size.Width < 1))
        {
            throw new ArgumentException($"the input size must be at least 1x1, got {size.Height}x{size.Width}.");
        }

        var preprocess = options.InputSize is { } s ? Resized(options.Preprocess, s.Height, s.Width) : options.Preprocess;
        var (height, width) = FixedSize(preprocess);
        if (SizeChange(model, options, preprocess) is var (h0, w0))
        {
            SetInputSize(model, h0, w0);
            return;
        }

        if (SpatialDims(model, preprocess.Nhwc) is var (h, w) && ((h.DimValue > 0 && h.DimValue != height) || (w.DimValue > 0 && w.DimValue != width)))
        {
            throw new ArgumentException($"the model's input '{InputName(model)}' is {Text(h)}x{Text(w)} but the preprocessing gives {height}x{width}; set the input size (--input-size) or a preprocessing spec of that size.");
        }
    }

    /// <summary>The size the model's input must be set to, or null when it stays.</summary>
    private static (int Height, int Width)? SizeChange(OnnxModel model, FineTuneOptions options, PreprocessSpec preprocess)
    {
        var (height, width) = options.InputSize ?? (preprocess.OutputSize ?? (0, 0));
        var change = SpatialDims(model, preprocess.Nhwc) is var (h, w) && height > 0
            && (options.InputSize is not null ? h.DimValue != height || w.DimValue != width : h.DimValue <= 0 && w.DimValue <= 0);
        return change ? (height, width) : null;
    }

    private static OnnxModel SetInputSize(OnnxModel model, int height, int width)
    {
        try
        {
            return GraphEdits.SetInputSize(model, height, width);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"training at {height}x{width}: {e.Message}", e);
        }
    }

    /// <summary>The height and width dimensions of a model's rank-4 image input, or null.</summary>
    private static (TensorShapeProto.Types.Dimension Height, TensorShapeProto.Types.Dimension Width)? SpatialDims(OnnxModel model, bool nhwc)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var dims = model.Graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name))?.Type?.TensorType?.Shape?.Dim;
        return dims is { Count: 4 } ? nhwc ? (dims[1], dims[2]) : (dims[2], dims[3]) : null;
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

        return spec with { Resize = spec.Resize is ResizeMode.Fit or ResizeMode.TextLine ? spec.Resize : ResizeMode.Exact, ResizeHeight = height, ResizeWidth = width };
    }

    /// <summary>The size a spec's batches have (as the batch pipeline computes it).</summary>
    public static (int Height, int Width) FixedSize(PreprocessSpec spec) =>
        spec.OutputSize ?? throw new ArgumentException($"preprocess spec '{spec}' does not give a fixed size; give resize=HxW, fit=HxW or crop=HxW, or an input size (--input-size).");

    private static string InputName(OnnxModel model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Input.First(i => !initializers.Contains(i.Name)).Name;
    }

    private static string Text(TensorShapeProto.Types.Dimension d) => d.DimValue > 0 ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.DimParam is { Length: > 0 } p ? p : "?";
}

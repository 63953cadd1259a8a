using System.Globalization;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training;

/// <summary>Checks of a run's settings against its model and data, the input size, and the training sessions' options.</summary>
public static partial class FineTuner
{
    /// <summary>
    /// Checks <paramref name="options"/> against the model and the data before anything runs or is written: class
    /// counts, a separate validation set's classes, dropout, the mode, the cache budget and the input size.
    /// </summary>
    /// <exception cref="ArgumentException">A setting that cannot work, named in the message.</exception>
    public static void Validate(OnnxModel model, ImageDataset data, FineTuneOptions options)
    {
        var classes = data.Classes.Count;
        if (options.Spec.Loss == LossKind.SigmoidBinaryCrossEntropy && classes != 2)
        {
            throw new ArgumentException($"binary cross-entropy needs exactly 2 classes; the data has {classes} ({string.Join(", ", data.Classes)}).");
        }

        if (options.NewHeadClasses is { } requested && requested != classes)
        {
            throw new ArgumentException($"the new head has {requested} classes but the data has {classes} ({string.Join(", ", data.Classes)}).");
        }

        if (options.ValidationData is { } validation)
        {
            if (!validation.Classes.SequenceEqual(data.Classes, StringComparer.Ordinal))
            {
                throw new ArgumentException($"the validation data's classes ({string.Join(", ", validation.Classes)}) differ from the training data's ({string.Join(", ", data.Classes)}); both need the same class folders.");
            }

            if (options.Split is not null)
            {
                throw new ArgumentException("a separate validation set cannot be combined with K-fold cross-validation (each fold is held out in turn).");
            }
        }

        if (options.Dropout is < 0 or >= 1 || float.IsNaN(options.Dropout))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"dropout must be in [0, 1), got {options.Dropout}."));
        }

        if (options.Dropout > 0 && options.NewHeadClasses is null && options.Stage == 1)
        {
            throw new ArgumentException("dropout belongs to a new head (before its classifier, or after each --hidden layer); it cannot be used with --keep-head.");
        }

        if (options.Mode == TrainingMode.FeatureCache && options.Augment is not null)
        {
            throw new ArgumentException("feature-cache mode needs the same input every epoch; augmentation changes it (use end-to-end).");
        }

        if (options.CacheMemoryBytes < 0)
        {
            throw new ArgumentException($"the feature cache's memory budget must be 0 or more bytes, got {options.CacheMemoryBytes}.");
        }

        if (options.InputSize is { } size && (size.Height < 1 || size.Width < 1))
        {
            throw new ArgumentException($"the input size must be at least 1x1, got {size.Height}x{size.Width}.");
        }

        var (sized, sizedOptions) = WithInputSize(model, options);
        var (height, width) = FixedSize(sizedOptions.Preprocess);
        if (ModelInput(sized) is { } input && SpatialDims(input, sizedOptions.Preprocess.Nhwc) is var (h, w)
            && ((h.DimValue > 0 && h.DimValue != height) || (w.DimValue > 0 && w.DimValue != width)))
        {
            throw new ArgumentException($"the model's input '{input.Name}' is {Text(h)}x{Text(w)} but the preprocessing gives {height}x{width}; set the input size (--input-size) or a preprocessing spec of that size.");
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

    /// <summary>
    /// The model and options at <see cref="FineTuneOptions.InputSize"/> (the model's spatial input dims set by
    /// <see cref="GraphEdits.SetInputSize"/>, the preprocessing resized); without one, a model whose spatial dims are
    /// symbolic is set to the size a fixed-size preprocessing spec gives (training graphs need known sizes).
    /// </summary>
    /// <exception cref="ArgumentException">The graph cannot take that size.</exception>
    private static (OnnxModel Model, FineTuneOptions Options) WithInputSize(OnnxModel model, FineTuneOptions options)
    {
        var preprocess = options.InputSize is { } size ? Resized(options.Preprocess, size.Height, size.Width) : options.Preprocess;
        var (height, width) = options.InputSize ?? (preprocess.CropHeight > 0 || preprocess.Resize is ResizeMode.Exact or ResizeMode.Fit ? FixedSize(preprocess) : (0, 0));
        var dims = ModelInput(model) is { } input ? SpatialDims(input, preprocess.Nhwc) : null;
        var change = dims is var (h, w) && height > 0 && (options.InputSize is not null ? h.DimValue != height || w.DimValue != width : h.DimValue <= 0 && w.DimValue <= 0);
        if (!change)
        {
            return (model, options with { Preprocess = preprocess });
        }

        try
        {
            return (GraphEdits.SetInputSize(model, height, width), options with { Preprocess = preprocess });
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"training at {height}x{width}: {e.Message}", e);
        }
    }

    /// <summary>The model with the new head <see cref="FineTuneOptions.NewHeadClasses"/> asks for (unchanged without one); a binary head has one output unit, its logit for the second class.</summary>
    private static OnnxModel WithNewHead(OnnxModel model, FineTuneOptions options, bool binary) =>
        options.NewHeadClasses is { } n
            ? HeadEdits.Replace(model, new HeadSpec { Classes = binary && n == 2 ? 1 : n, Hidden = options.Hidden, Dropout = options.Dropout, Seed = options.Seed, Pool = options.Pool })
            : model;

    /// <summary>A spec whose output is H×W: a fixed-size spec keeps its proportions (crop and the resize before it scale together), any other resizes exactly.</summary>
    private static PreprocessSpec Resized(PreprocessSpec spec, int height, int width)
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
    private static (int Height, int Width) FixedSize(PreprocessSpec spec) =>
        spec.CropHeight > 0 ? (spec.CropHeight, spec.CropWidth)
        : spec.Resize is ResizeMode.Exact or ResizeMode.Fit ? (spec.ResizeHeight, spec.ResizeWidth)
        : throw new ArgumentException($"preprocess spec '{spec}' does not give a fixed size; give resize=HxW, fit=HxW or crop=HxW, or an input size (--input-size).");

    private static ValueInfoProto? ModelInput(OnnxModel model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name));
    }

    /// <summary>The height and width dimensions of a rank-4 image input, or null.</summary>
    private static (TensorShapeProto.Types.Dimension Height, TensorShapeProto.Types.Dimension Width)? SpatialDims(ValueInfoProto input, bool nhwc)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        return dims is { Count: 4 } ? nhwc ? (dims[1], dims[2]) : (dims[2], dims[3]) : null;
    }

    private static string Text(TensorShapeProto.Types.Dimension d) => d.DimValue > 0 ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.DimParam is { Length: > 0 } p ? p : "?";
}

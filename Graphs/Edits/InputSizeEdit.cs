using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Edits;

/// <summary>The spatial size of a model's image input, as a validated edit.</summary>
public static class InputSizeEdit
{
    /// <summary>
    /// Sets the height and width dimensions of the first non-initializer rank-4 input (NCHW, or NHWC when
    /// <paramref name="nhwc"/>) to <paramref name="height"/>×<paramref name="width"/>; intermediate shape hints,
    /// inferred at the old size, are dropped. A model already of that size is returned unchanged (a copy).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    /// <exception cref="InvalidOperationException">The model has no rank-4 image input.</exception>
    public static OnnxModel SetSpatialSize(OnnxModel model, int height, int width, bool nhwc = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var result = model.Clone();
        var (h, w) = SpatialDims(result, nhwc) ?? throw new InvalidOperationException("the model has no rank-4 image input whose size could be set.");
        if (h.DimValue == height && w.DimValue == width)
        {
            return result;
        }

        h.DimValue = height;
        w.DimValue = width;
        result.Graph.ValueInfo.Clear();
        return GraphEdits.Finish(result);
    }

    /// <summary>The height and width dimensions of a model's rank-4 image input, or null.</summary>
    public static (TensorShapeProto.Types.Dimension Height, TensorShapeProto.Types.Dimension Width)? SpatialDims(OnnxModel model, bool nhwc = false)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var dims = model.Graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name))?.Type?.TensorType?.Shape?.Dim;
        return dims is { Count: 4 } ? nhwc ? (dims[1], dims[2]) : (dims[2], dims[3]) : null;
    }
}

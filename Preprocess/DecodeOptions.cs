namespace OnnxCnn.Preprocess;

/// <summary>How <see cref="ImageDecoder"/> decodes an image.</summary>
public sealed record DecodeOptions
{
    /// <summary>Full size, EXIF orientation applied.</summary>
    public static DecodeOptions Default { get; } = new();

    /// <summary>
    /// The one decode rule for images that <paramref name="spec"/> then resizes, used by the training
    /// pipeline (<see cref="BatchPipeline.DefaultLoader"/>) and by the Classifier alike, so a model sees
    /// at inference the pixels it was trained on: a JPEG at least twice as large as the resize target
    /// (both sides) is decoded smaller in the DCT domain, never below twice the target, so the final
    /// resize still antialiases. Without a resize the image is decoded at full size.
    /// </summary>
    public static DecodeOptions For(PreprocessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var target = spec.Resize switch
        {
            ResizeMode.ShorterSide or ResizeMode.TextLine => spec.ResizeHeight,
            ResizeMode.Exact or ResizeMode.Fit => Math.Max(spec.ResizeHeight, spec.ResizeWidth),
            _ => 0,
        };
        return target > 0 ? new DecodeOptions { MinWidth = 2 * target, MinHeight = 2 * target } : Default;
    }

    /// <summary>
    /// The smallest width the caller needs, in upright pixels (after EXIF orientation); 0 for
    /// no limit. With <see cref="MinHeight"/> it lets a JPEG be decoded smaller, in the DCT
    /// domain: the smallest TurboJPEG scaling factor (at most 1) whose output still covers
    /// both minimums is used. PNGs are always decoded at full size.
    /// </summary>
    public int MinWidth
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MinWidth), value, "MinWidth must be 0 (no limit) or positive.");
    }

    /// <summary>The smallest height the caller needs (see <see cref="MinWidth"/>); 0 for no limit.</summary>
    public int MinHeight
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MinHeight), value, "MinHeight must be 0 (no limit) or positive.");
    }

    /// <summary>
    /// Rotate/flip a JPEG upright according to its EXIF orientation tag (like PIL's
    /// <c>ImageOps.exif_transpose</c>). Default true.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;
}

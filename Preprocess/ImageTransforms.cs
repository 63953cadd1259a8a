namespace OnnxCnn.Preprocess;

/// <summary>
/// The geometric steps of a <see cref="PreprocessSpec"/> (resize, fit, centre crop) and the
/// conversion to a float tensor (scale, mean, std, channel order, layout) — each as torchvision
/// does it on PIL images.
/// </summary>
public static class ImageTransforms
{
    /// <summary>Vector width used for tensor conversion: 512, 256, 128 or 0 (scalar); tests pin each path.</summary>
    internal static int VectorWidth { get; set; } = Internal.TensorKernels.BestWidth;

    /// <summary>Resizes and crops an image as the spec says (bilinear, like torchvision's default). Returns a new image.</summary>
    public static RgbImage Apply(RgbImage image, PreprocessSpec spec, ResampleFilter filter = ResampleFilter.Bilinear)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        if (Internal.CropWindow.TryCreate(image.Width, image.Height, spec, filter, out var window))
        {
            return Internal.PilResample.Convolve(image, window.ResizedWidth, window.ResizedHeight, window.Kernel, window.Window);
        }

        return ApplyInSteps(image, spec, filter);
    }

    /// <summary>
    /// <see cref="Apply"/> followed by <see cref="ToTensor"/>, in one pass where the spec allows
    /// (resize + centre crop): only the pixels that survive the crop are resampled, and each output
    /// row goes straight into <paramref name="destination"/> — the same values as the two steps, bit for bit.
    /// </summary>
    /// <returns>The size of the tensor written (3 × width × height values).</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the result.</exception>
    public static (int Width, int Height) ApplyToTensor(RgbImage image, PreprocessSpec spec, Span<float> destination, ResampleFilter filter = ResampleFilter.Bilinear)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        if (!Internal.CropWindow.TryCreate(image.Width, image.Height, spec, filter, out var window))
        {
            using var prepared = ApplyInSteps(image, spec, filter);
            ToTensor(prepared, spec, destination);
            return (prepared.Width, prepared.Height);
        }

        var (w, h) = (window.Window.Width, window.Window.Height);
        if (destination.Length < 3 * w * h)
        {
            throw new ArgumentException($"destination holds {destination.Length} values; a {w}×{h} image needs {3 * w * h}.");
        }

        var sink = new Internal.TensorSink(destination, new Internal.TensorWriter(spec), w, h);
        Internal.PilResample.Convolve(image, window.ResizedWidth, window.ResizedHeight, window.Kernel, window.Window, ref sink);
        return (w, h);
    }

    /// <summary>Resize, then fit/crop, as separate images (nearest neighbour, fit, and crops larger than the image).</summary>
    private static RgbImage ApplyInSteps(RgbImage image, PreprocessSpec spec, ResampleFilter filter)
    {
        var current = image;
        var owned = false;
        try
        {
            switch (spec.Resize)
            {
                case ResizeMode.ShorterSide:
                    var (w, h) = Resampler.ShorterSideSize(current.Width, current.Height, spec.ResizeHeight);
                    Replace(ref current, ref owned, Resampler.Resize(current, w, h, filter));
                    break;
                case ResizeMode.Exact:
                    Replace(ref current, ref owned, Resampler.Resize(current, spec.ResizeWidth, spec.ResizeHeight, filter));
                    break;
                case ResizeMode.Fit:
                    Replace(ref current, ref owned, Fit(current, spec.ResizeWidth, spec.ResizeHeight, (byte)Math.Clamp(spec.PadValue, 0, 255), filter));
                    break;
                case ResizeMode.TextLine:
                    // Padding to the full width happens in ToTensor: Paddle pads the normalised tensor with zeros.
                    var (lw, lh) = TextLineSize(current.Width, current.Height, spec.ResizeHeight, spec.ResizeWidth);
                    Replace(ref current, ref owned, Resampler.Resize(current, lw, lh, filter));
                    break;
            }

            if (spec.CropHeight > 0)
            {
                Replace(ref current, ref owned, CenterCrop(current, spec.CropWidth, spec.CropHeight));
            }

            if (!owned)
            {
                current = RgbImage.FromPixels(current.Width, current.Height, current.Pixels);
                owned = true;
            }

            return current;
        }
        catch
        {
            if (owned)
            {
                current.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// The whole rule from a decoded image to a model's input: <see cref="Apply"/> then
    /// <see cref="ToTensor"/>, into <paramref name="destination"/> (3·H·W values of the spec's
    /// <see cref="PreprocessSpec.OutputSize"/>). The training pipeline and the Classifier both use it.
    /// </summary>
    /// <exception cref="ArgumentException">The spec has no fixed output size, or the destination has the wrong length.</exception>
    public static void Prepare(RgbImage image, PreprocessSpec spec, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        var (height, width) = spec.OutputSize ?? throw new ArgumentException($"preprocess spec '{spec}' does not give a fixed size; add crop=HxW, resize=HxW, fit=HxW or textline=HxW.", nameof(spec));
        if (destination.Length != 3 * height * width)
        {
            throw new ArgumentException($"destination holds {destination.Length} values; preprocess spec '{spec}' gives 3×{height}×{width} = {3 * height * width}.", nameof(destination));
        }

        using var prepared = Apply(image, spec);
        ToTensor(prepared, spec, destination);
    }

    /// <summary>
    /// PaddleOCR's text-line size (<c>resize_norm_img</c>): height <paramref name="height"/>, width
    /// min(<paramref name="maxWidth"/>, ⌈height·w/h⌉) for a w×h image.
    /// </summary>
    public static (int Width, int Height) TextLineSize(int imageWidth, int imageHeight, int height, int maxWidth)
    {
        var ratio = imageWidth / (double)imageHeight;
        var width = Math.Ceiling(height * ratio);
        return (width > maxWidth ? maxWidth : Math.Max(1, (int)width), height);
    }

    private static void Replace(ref RgbImage current, ref bool owned, RgbImage next)
    {
        if (owned)
        {
            current.Dispose();
        }

        current = next;
        owned = true;
    }

    /// <summary>
    /// torchvision's <c>CenterCrop</c>: offsets round((size − crop)/2) with Python's round-half-to-even;
    /// a crop larger than the image is padded with zeros around it first, as torchvision does.
    /// </summary>
    public static RgbImage CenterCrop(RgbImage image, int width, int height)
    {
        var top = (int)Math.Round((image.Height - height) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((image.Width - width) / 2.0, MidpointRounding.ToEven);
        if (width > image.Width || height > image.Height)
        {
            // torchvision pads (left, top, right, bottom) = ((cw-w)//2, (ch-h)//2, (cw-w+1)//2, (ch-h+1)//2), then crops centrally.
            var padLeft = Math.Max(0, (width - image.Width) / 2);
            var padTop = Math.Max(0, (height - image.Height) / 2);
            var padRight = Math.Max(0, (width - image.Width + 1) / 2);
            var padBottom = Math.Max(0, (height - image.Height + 1) / 2);
            using var padded = Pad(image, padLeft, padTop, padRight, padBottom, 0);
            return CenterCrop(padded, width, height);
        }

        var output = RgbImage.Create(width, height);
        for (var y = 0; y < height; y++)
        {
            image.Row(top + y).Slice(left * 3, width * 3).CopyTo(output.Row(y));
        }

        return output;
    }

    /// <summary>Resizes to fit inside width×height keeping the aspect ratio, then pads the rest (centred) with <paramref name="value"/>.</summary>
    public static RgbImage Fit(RgbImage image, int width, int height, byte value, ResampleFilter filter = ResampleFilter.Bilinear)
    {
        var scale = Math.Min((double)width / image.Width, (double)height / image.Height);
        var w = Math.Clamp((int)Math.Round(image.Width * scale), 1, width);
        var h = Math.Clamp((int)Math.Round(image.Height * scale), 1, height);
        using var resized = Resampler.Resize(image, w, h, filter);
        var left = (width - w) / 2;
        var top = (height - h) / 2;
        return Pad(resized, left, top, width - w - left, height - h - top, value);
    }

    /// <summary>Adds borders of a constant value.</summary>
    public static RgbImage Pad(RgbImage image, int left, int top, int right, int bottom, byte value)
    {
        var output = RgbImage.Create(image.Width + left + right, image.Height + top + bottom);
        output.Pixels.Fill(value);
        for (var y = 0; y < image.Height; y++)
        {
            image.Row(y).CopyTo(output.Row(top + y)[(left * 3)..]);
        }

        return output;
    }

    /// <summary>
    /// Writes the image as floats: ((pixel·scale) − mean) / std per channel, in the spec's channel
    /// order and layout (NCHW planes or NHWC interleaved). <paramref name="destination"/> holds 3·W·H values.
    /// For a <see cref="ResizeMode.TextLine"/> spec (without crop) a line narrower than the spec's width
    /// is written at the left of a W-wide tensor whose other values are 0, as PaddleOCR pads.
    /// </summary>
    public static void ToTensor(RgbImage image, PreprocessSpec spec, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec is { Resize: ResizeMode.TextLine, CropHeight: 0 } && image.Width < spec.ResizeWidth)
        {
            PaddedLine(image, spec, destination);
            return;
        }

        Dense(image, spec, destination);
    }

    /// <summary>The image's tensor at the left of a W-wide zero tensor (NCHW: per plane row; NHWC: per row).</summary>
    private static void PaddedLine(RgbImage image, PreprocessSpec spec, Span<float> destination)
    {
        int w = image.Width, h = image.Height, full = spec.ResizeWidth;
        if (destination.Length < 3 * h * full)
        {
            throw new ArgumentException($"destination holds {destination.Length} values; a {full}×{h} text line needs {3 * h * full}.", nameof(destination));
        }

        var dense = System.Buffers.ArrayPool<float>.Shared.Rent(3 * w * h);
        try
        {
            var source = dense.AsSpan(0, 3 * w * h);
            Dense(image, spec, source);
            destination[..(3 * h * full)].Clear();
            var rows = spec.Nhwc ? h : 3 * h;
            var run = spec.Nhwc ? 3 * w : w;
            var stride = spec.Nhwc ? 3 * full : full;
            for (var r = 0; r < rows; r++)
            {
                source.Slice(r * run, run).CopyTo(destination.Slice(r * stride, run));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(dense);
        }
    }

    private static void Dense(RgbImage image, PreprocessSpec spec, Span<float> destination)
    {
        var pixels = image.Width * image.Height;
        if (destination.Length < pixels * 3)
        {
            throw new ArgumentException($"destination holds {destination.Length} values; a {image.Width}×{image.Height} image needs {pixels * 3}.");
        }

        new Internal.TensorWriter(spec).Write(image.Pixels, destination, 0, pixels, pixels);
    }
}

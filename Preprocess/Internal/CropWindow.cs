namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// A spec's resize + centre crop as one windowed convolution: the size the image is resized to
/// and the window of it the crop keeps (torchvision's offsets, round-half-to-even).
/// </summary>
internal readonly record struct CropWindow(int ResizedWidth, int ResizedHeight, (PilResample.Kernel Filter, double Support) Kernel, PilResample.Window Window)
{
    /// <summary>
    /// The window for an image of width×height, or false when the spec needs the step-by-step path:
    /// nearest neighbour, fit (letterbox), a crop larger than the resized image (padded), or an invalid size.
    /// </summary>
    public static bool TryCreate(int width, int height, PreprocessSpec spec, ResampleFilter filter, out CropWindow window)
    {
        window = default;
        (PilResample.Kernel, double)? kernel = filter switch
        {
            ResampleFilter.Bilinear => PilResample.Bilinear,
            ResampleFilter.Bicubic => PilResample.Bicubic,
            _ => null,
        };
        (int W, int H)? resized = spec.Resize switch
        {
            ResizeMode.ShorterSide => Resampler.ShorterSideSize(width, height, spec.ResizeHeight),
            ResizeMode.Exact => (spec.ResizeWidth, spec.ResizeHeight),
            ResizeMode.None => (width, height),
            _ => null,
        };
        if (kernel is not { } k || resized is not var (rw, rh) || rw <= 0 || rh <= 0)
        {
            return false;
        }

        var crop = new PilResample.Window(0, 0, rw, rh);
        if (spec.CropHeight > 0)
        {
            if (spec.CropWidth > rw || spec.CropHeight > rh)
            {
                return false;
            }

            var top = (int)Math.Round((rh - spec.CropHeight) / 2.0, MidpointRounding.ToEven);
            var left = (int)Math.Round((rw - spec.CropWidth) / 2.0, MidpointRounding.ToEven);
            crop = new PilResample.Window(left, top, spec.CropWidth, spec.CropHeight);
        }

        window = new CropWindow(rw, rh, k, crop);
        return true;
    }
}

namespace OnnxCnn.Preprocess;

/// <summary>
/// What an image file holds, read from its header without decoding the pixels.
/// </summary>
/// <param name="Format">The encoded format.</param>
/// <param name="Width">Width in pixels as stored in the file (before any EXIF orientation).</param>
/// <param name="Height">Height in pixels as stored in the file (before any EXIF orientation).</param>
/// <param name="Orientation">
/// The EXIF orientation tag, 1 (upright) to 8; 1 when the file has none or it is not valid.
/// Only JPEG files carry one here.
/// </param>
public readonly record struct ImageInfo(ImageFormat Format, int Width, int Height, int Orientation)
{
    /// <summary>True when applying <see cref="Orientation"/> swaps width and height (5 to 8).</summary>
    public bool SwapsAxes => Orientation >= 5;

    /// <summary>Width once <see cref="Orientation"/> is applied (what <see cref="ImageDecoder"/> returns at full size).</summary>
    public int UprightWidth => SwapsAxes ? Height : Width;

    /// <summary>Height once <see cref="Orientation"/> is applied.</summary>
    public int UprightHeight => SwapsAxes ? Width : Height;
}

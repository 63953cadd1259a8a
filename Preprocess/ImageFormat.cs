namespace OnnxCnn.Preprocess;

/// <summary>An encoded image format, as recognised from the file's first bytes.</summary>
public enum ImageFormat
{
    /// <summary>JPEG (starts <c>FF D8 FF</c>).</summary>
    Jpeg,

    /// <summary>PNG (starts <c>89 50 4E 47 0D 0A 1A 0A</c>).</summary>
    Png,
}

using System.Runtime.InteropServices;
using System.Text;

namespace OnnxCnn.Preprocess.Internal.LibPng;

/// <summary>
/// Owns one <c>png_image</c>, allocated zeroed in native memory (libpng keeps a pointer to it in
/// its control structure between calls, so it must not move): releasing calls
/// <c>png_image_free</c> (safe at any stage) and frees the block.
/// </summary>
internal sealed unsafe class PngImageHandle : SafeHandle
{
    private PngImageHandle()
        : base(0, ownsHandle: true)
    {
        var image = (LibPngNative.PngImage*)NativeMemory.AllocZeroed((nuint)sizeof(LibPngNative.PngImage));
        image->Version = LibPngNative.PNG_IMAGE_VERSION;
        SetHandle((nint)image);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The structure; valid while this handle is alive.</summary>
    public LibPngNative.PngImage* Image => (LibPngNative.PngImage*)handle;

    /// <summary>A fresh <c>png_image</c> with <c>version = PNG_IMAGE_VERSION</c> and everything else zero.</summary>
    public static PngImageHandle Create() => new();

    /// <summary>libpng's message for the last warning or error.</summary>
    public string Message()
    {
        var bytes = new ReadOnlySpan<byte>(Image->Message, 64);
        var end = bytes.IndexOf((byte)0);
        var text = Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]).Trim();
        return text.Length > 0 ? text : "unknown libpng error";
    }

    protected override bool ReleaseHandle()
    {
        var image = (LibPngNative.PngImage*)handle;
        LibPngNative.ImageFree(image);
        NativeMemory.Free(image);
        return true;
    }
}

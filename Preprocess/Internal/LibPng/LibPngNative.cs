using System.Runtime.InteropServices;

namespace OnnxCnn.Preprocess.Internal.LibPng;

/// <summary>
/// libpng 1.6's simplified read API (<c>libpng16.so.16</c>): <c>png_image</c> and the three
/// calls that fill it. Constants and layout are those of <c>png.h</c>; each parameter carries
/// its C type in a comment.
/// </summary>
internal static unsafe partial class LibPngNative
{
    // #define PNG_IMAGE_VERSION, PNG_IMAGE_WARNING/ERROR (bits of warning_or_error)
    public const uint PNG_IMAGE_VERSION = 1, PNG_IMAGE_WARNING = 1, PNG_IMAGE_ERROR = 2;

    // #define PNG_FORMAT_FLAG_* and the formats built from them
    public const uint PNG_FORMAT_FLAG_ALPHA = 0x01, PNG_FORMAT_FLAG_COLOR = 0x02;
    public const uint PNG_FORMAT_RGB = PNG_FORMAT_FLAG_COLOR, PNG_FORMAT_RGBA = PNG_FORMAT_RGB | PNG_FORMAT_FLAG_ALPHA;

    // #define PNG_IMAGE_FLAG_16BIT_sRGB: 16-bit samples without gAMA/sRGB are sRGB-encoded, not linear.
    public const uint PNG_IMAGE_FLAG_16BIT_sRGB = 0x04;

    static LibPngNative() => NativeLibraries.EnsureResolver();

    /// <summary>
    /// <c>png_image</c>: <c>png_controlp opaque; png_uint_32 version, width, height, format, flags,
    /// colormap_entries, warning_or_error; char message[64];</c> (104 bytes on LP64).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PngImage
    {
        public nint Opaque;            // png_controlp
        public uint Version;           // png_uint_32
        public uint Width;             // png_uint_32
        public uint Height;            // png_uint_32
        public uint Format;            // png_uint_32
        public uint Flags;             // png_uint_32
        public uint ColormapEntries;   // png_uint_32
        public uint WarningOrError;    // png_uint_32
        public fixed byte Message[64]; // char[64]
    }

    /// <summary><c>int png_image_begin_read_from_memory(png_imagep image, png_const_voidp memory, size_t size);</c></summary>
    [LibraryImport(NativeLibraries.PngName, EntryPoint = "png_image_begin_read_from_memory")]
    public static partial int ImageBeginReadFromMemory(PngImage* image /* png_imagep */, byte* memory /* png_const_voidp */, nuint size /* size_t */);

    /// <summary><c>int png_image_finish_read(png_imagep image, png_const_colorp background, void *buffer, png_int_32 row_stride, void *colormap);</c></summary>
    [LibraryImport(NativeLibraries.PngName, EntryPoint = "png_image_finish_read")]
    public static partial int ImageFinishRead(
        PngImage* image /* png_imagep */,
        void* background /* png_const_colorp */,
        byte* buffer /* void* */,
        int rowStride /* png_int_32 */,
        void* colormap /* void* */);

    /// <summary><c>void png_image_free(png_imagep image);</c></summary>
    [LibraryImport(NativeLibraries.PngName, EntryPoint = "png_image_free")]
    public static partial void ImageFree(PngImage* image /* png_imagep */);

    /// <summary><c>int png_image_write_to_memory(png_imagep image, void *memory, png_alloc_size_t *memory_bytes, int convert_to_8_bit, const void *buffer, png_int_32 row_stride, const void *colormap);</c></summary>
    [LibraryImport(NativeLibraries.PngName, EntryPoint = "png_image_write_to_memory")]
    public static partial int ImageWriteToMemory(
        PngImage* image /* png_imagep */,
        byte* memory /* void* */,
        nuint* memoryBytes /* png_alloc_size_t* */,
        int convertTo8Bit /* int */,
        byte* buffer /* const void* */,
        int rowStride /* png_int_32 */,
        void* colormap /* const void* */);
}

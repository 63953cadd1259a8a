using System.Runtime.InteropServices;

namespace OnnxCnn.Preprocess.Internal.TurboJpeg;

/// <summary>
/// The classic TurboJPEG decompression API of <c>libturbojpeg.so.0</c> (libjpeg-turbo 2.x;
/// 3.x keeps these entry points). Constants and signatures are those of <c>turbojpeg.h</c>;
/// each parameter carries its C type in a comment. <c>unsigned long</c> is <see cref="CULong"/>.
/// </summary>
internal static unsafe partial class TurboJpegNative
{
    // enum TJCS
    public const int TJCS_RGB = 0, TJCS_YCbCr = 1, TJCS_GRAY = 2, TJCS_CMYK = 3, TJCS_YCCK = 4;

    // enum TJPF
    public const int TJPF_RGB = 0, TJPF_CMYK = 11;

    // #define TJFLAG_*
    public const int TJFLAG_ACCURATEDCT = 4096, TJFLAG_STOPONWARNING = 8192, TJFLAG_LIMITSCANS = 32768;

    // enum TJERR
    public const int TJERR_WARNING = 0, TJERR_FATAL = 1;

    static TurboJpegNative() => NativeLibraries.EnsureResolver();

    /// <summary><c>typedef struct { int num; int denom; } tjscalingfactor;</c></summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ScalingFactor
    {
        public int Num;
        public int Denom;
    }

    /// <summary><c>tjhandle tjInitDecompress(void);</c></summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjInitDecompress")]
    public static partial nint InitDecompress();

    /// <summary><c>int tjDestroy(tjhandle handle);</c></summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjDestroy")]
    public static partial int Destroy(nint handle /* tjhandle */);

    /// <summary><c>int tjDecompressHeader3(tjhandle, const unsigned char *jpegBuf, unsigned long jpegSize, int *width, int *height, int *jpegSubsamp, int *jpegColorspace);</c></summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjDecompressHeader3")]
    public static partial int DecompressHeader3(
        TurboJpegHandle handle /* tjhandle */,
        byte* jpegBuf /* const unsigned char* */,
        CULong jpegSize /* unsigned long */,
        int* width /* int* */,
        int* height /* int* */,
        int* jpegSubsamp /* int* */,
        int* jpegColorspace /* int* */);

    /// <summary><c>int tjDecompress2(tjhandle, const unsigned char *jpegBuf, unsigned long jpegSize, unsigned char *dstBuf, int width, int pitch, int height, int pixelFormat, int flags);</c></summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjDecompress2")]
    public static partial int Decompress2(
        TurboJpegHandle handle /* tjhandle */,
        byte* jpegBuf /* const unsigned char* */,
        CULong jpegSize /* unsigned long */,
        byte* dstBuf /* unsigned char* */,
        int width,
        int pitch,
        int height,
        int pixelFormat,
        int flags);

    /// <summary><c>tjscalingfactor *tjGetScalingFactors(int *numScalingFactors);</c> (a static table owned by the library)</summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjGetScalingFactors")]
    public static partial ScalingFactor* GetScalingFactors(int* numScalingFactors /* int* */);

    /// <summary><c>char *tjGetErrorStr2(tjhandle handle);</c> (owned by the handle, or thread-local)</summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjGetErrorStr2")]
    public static partial byte* GetErrorStr2(TurboJpegHandle handle /* tjhandle */);

    /// <summary><c>int tjGetErrorCode(tjhandle handle);</c></summary>
    [LibraryImport(NativeLibraries.TurboJpegName, EntryPoint = "tjGetErrorCode")]
    public static partial int GetErrorCode(TurboJpegHandle handle /* tjhandle */);

    /// <summary>The last error or warning of <paramref name="handle"/>, as text.</summary>
    public static string ErrorText(TurboJpegHandle handle) =>
        Marshal.PtrToStringUTF8((nint)GetErrorStr2(handle))?.Trim() is { Length: > 0 } text ? text : "unknown TurboJPEG error";
}

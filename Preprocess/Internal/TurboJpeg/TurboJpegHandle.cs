using System.Runtime.InteropServices;

namespace OnnxCnn.Preprocess.Internal.TurboJpeg;

/// <summary>A TurboJPEG decompressor instance (<c>tjhandle</c>), destroyed with <c>tjDestroy</c>.</summary>
internal sealed class TurboJpegHandle : SafeHandle
{
    private TurboJpegHandle(nint handle)
        : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    /// <summary>A new decompressor; fails only when the library cannot allocate one.</summary>
    public static TurboJpegHandle CreateDecompressor()
    {
        var raw = TurboJpegNative.InitDecompress();
        return raw == 0
            ? throw new InvalidOperationException("TurboJPEG could not create a decompressor (tjInitDecompress returned NULL: out of memory?).")
            : new TurboJpegHandle(raw);
    }

    protected override bool ReleaseHandle() => TurboJpegNative.Destroy(handle) == 0;
}

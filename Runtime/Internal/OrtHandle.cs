using System.Runtime.InteropServices;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// One SafeHandle type for every ORT object: it remembers which <c>Release*</c> entry of the
/// <c>OrtApi</c> table frees it, so a leaked or double-freed native object is impossible.
/// </summary>
internal sealed class OrtHandle : SafeHandle
{
    private readonly int releaseIndex;

    public OrtHandle(nint handle, int releaseIndex)
        : base(0, ownsHandle: true)
    {
        this.releaseIndex = releaseIndex;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw pointer; valid while this handle is alive (callers keep it alive).</summary>
    public nint Pointer => handle;

    protected override unsafe bool ReleaseHandle()
    {
        ((delegate* unmanaged<nint, void>)OrtLibrary.Table[releaseIndex])(handle);
        return true;
    }
}

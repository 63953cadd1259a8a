using System.Reflection;
using System.Runtime.InteropServices;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>A native library the decoders call, and how to get it when it is missing.</summary>
/// <param name="ImportName">The name the <c>[LibraryImport]</c> declarations use.</param>
/// <param name="FileName">The shared object loaded by default (an soname, found by the system loader).</param>
/// <param name="PathVariable">An environment variable that, when set, names the file to load instead.</param>
/// <param name="Description">What the library is, for error messages.</param>
/// <param name="DebianPackage">The Debian package that installs it.</param>
internal sealed record NativeLibrarySpec(string ImportName, string FileName, string PathVariable, string Description, string DebianPackage);

/// <summary>
/// The one <see cref="NativeLibrary.SetDllImportResolver"/> of this assembly: maps the import
/// names <c>turbojpeg</c> and <c>png16</c> to <c>libturbojpeg.so.0</c> and <c>libpng16.so.16</c>
/// (or to <c>$ONNXCNN_TURBOJPEG_LIBRARY</c> / <c>$ONNXCNN_LIBPNG_LIBRARY</c> when set), and turns
/// a missing library into an error that says which package to install.
/// </summary>
internal static class NativeLibraries
{
    public const string TurboJpegName = "turbojpeg";
    public const string PngName = "png16";

    public static readonly NativeLibrarySpec TurboJpeg = new(
        TurboJpegName, "libturbojpeg.so.0", "ONNXCNN_TURBOJPEG_LIBRARY", "libjpeg-turbo's TurboJPEG library", "libturbojpeg0");

    public static readonly NativeLibrarySpec Png = new(
        PngName, "libpng16.so.16", "ONNXCNN_LIBPNG_LIBRARY", "libpng 1.6", "libpng16-16");

    // The static constructor runs exactly once, before any interop class calls EnsureResolver
    // returns, so no P/Invoke can bind before the resolver is in place.
    static NativeLibraries() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    /// <summary>Installs the resolver (once); every interop class calls this from its static constructor.</summary>
    public static void EnsureResolver()
    {
    }

    /// <summary>Loads a library as described by <paramref name="spec"/>, or throws <see cref="DllNotFoundException"/> saying how to install it.</summary>
    public static nint Load(NativeLibrarySpec spec, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var explicitPath = Environment.GetEnvironmentVariable(spec.PathVariable);
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            if (NativeLibrary.TryLoad(explicitPath, out var fromVariable))
            {
                return fromVariable;
            }

            throw new DllNotFoundException($"{spec.PathVariable} is set to '{explicitPath}', but {spec.Description} cannot be loaded from there.");
        }

        if (NativeLibrary.TryLoad(spec.FileName, assembly, searchPath, out var loaded))
        {
            return loaded;
        }

        throw new DllNotFoundException(
            $"{spec.Description} ({spec.FileName}) is not installed or cannot be loaded. Install it with 'apt-get install -y {spec.DebianPackage}' " +
            $"(the OnnxCnn build does this when run as root), or set {spec.PathVariable} to its path.");
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        TurboJpegName => Load(TurboJpeg, assembly, searchPath),
        PngName => Load(Png, assembly, searchPath),
        _ => 0,
    };
}

using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime.Tests;

/// <summary>The native ONNX Runtime the build shipped is the package and flavour it was asked for.</summary>
public class OrtPackageTests
{
    [Fact]
    public void Version_IsThePinnedPackageVersion()
    {
        Assert.Equal(OrtFlavour.PinnedVersion, OrtEnvironment.Version);
    }

    [Fact]
    public void LibraryPath_IsTheNuGetLibraryInTheAppFolder()
    {
        var path = OrtEnvironment.LibraryPath;
        Assert.True(File.Exists(path), path);
        Assert.Equal("libonnxruntime.so", Path.GetFileName(path));
        Assert.StartsWith(Path.GetFullPath(AppContext.BaseDirectory), Path.GetFullPath(path));
    }

    [Fact]
    public void Providers_MatchTheBuiltFlavour()
    {
        var providers = OrtEnvironment.AvailableProviders;
        Assert.Contains("CPUExecutionProvider", providers);
        var cudaLibrary = File.Exists(Path.Combine(Path.GetDirectoryName(OrtEnvironment.LibraryPath)!, CudaProvider.ProviderLibrary));
        switch (OrtFlavour.Built)
        {
            case "cpu":
                Assert.DoesNotContain(CudaProvider.ProviderName, providers);
                Assert.False(cudaLibrary, "the CPU build must not carry a CUDA provider library");
                break;
            case "cuda":
                Assert.Contains(CudaProvider.ProviderName, providers);
                Assert.True(cudaLibrary, $"{CudaProvider.ProviderLibrary} must ship beside libonnxruntime.so in the cuda flavour");
                break;
            default:
                Assert.Fail($"unknown flavour '{OrtFlavour.Built}'");
                break;
        }
    }

    [Fact]
    public void ElfNeeded_RealOrtLibrary_ListsLibcAndEveryOneLoads()
    {
        var needed = ElfNeeded.Read(OrtEnvironment.LibraryPath);
        Assert.Contains("libc.so.6", needed);
        Assert.Null(ElfNeeded.FirstUnloadable(OrtEnvironment.LibraryPath));
    }

    [Fact]
    public void ElfNeeded_NotElf_IsErrorNamingTheFile()
    {
        using var dir = new TestUtilities.TempDir();
        var path = dir.File("x.so");
        File.WriteAllText(path, new string('x', 100));
        var e = Assert.Throws<InvalidDataException>(() => ElfNeeded.Read(path));
        Assert.Equal($"'{path}' is not a little-endian 64-bit ELF file.", e.Message);
    }

    [Fact]
    public void ElfNeeded_Fixture_ReadsEntriesInOrder()
    {
        using var dir = new TestUtilities.TempDir();
        var path = dir.File("lib.so");
        File.WriteAllBytes(path, ElfFixture.SharedLibrary("libcublasLt.so.13", "libcudart.so.13"));
        Assert.Equal(["libcublasLt.so.13", "libcudart.so.13"], ElfNeeded.Read(path));
    }
}

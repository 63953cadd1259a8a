using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// The processor a benchmark ran on: its model name and the vector extensions that decide which kernels ONNX Runtime
/// (MLAS) and our own SIMD code pick — as the kernel reports them in /proc/cpuinfo, and as .NET's JIT enables them
/// (the two can differ: a hypervisor may hide a flag, and .NET may leave AVX-512 off where it would throttle).
/// </summary>
internal sealed record CpuInfo(string Model, int LogicalCores, IReadOnlyList<string> Flags, IReadOnlyList<string> Intrinsics)
{
    /// <summary>The /proc/cpuinfo flags that name the ISA levels MLAS dispatches on (AMX: amx_tile with amx_bf16/amx_int8).</summary>
    private static readonly string[] KernelFlags =
        ["sse4_2", "fma", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve"];

    /// <summary>What this process's JIT reports as supported (hardware and runtime configuration together).</summary>
    public static IReadOnlyList<string> RuntimeIntrinsics()
    {
        var supported = new List<string>();
        void Add(string name, bool isSupported)
        {
            if (isSupported)
            {
                supported.Add(name);
            }
        }

        Add("Sse42", Sse42.IsSupported);
        Add("Fma", Fma.IsSupported);
        Add("Avx2", Avx2.IsSupported);
        Add("AvxVnni", AvxVnni.IsSupported);
        Add("Avx512F", Avx512F.IsSupported);
        Add("Avx512BW", Avx512BW.IsSupported);
        Add("Avx512Vbmi", Avx512Vbmi.IsSupported);
        Add("Avx10v1", Avx10v1.IsSupported);
        Add("AdvSimd", AdvSimd.IsSupported);
        Add("Vector256", Vector256.IsHardwareAccelerated);
        Add("Vector512", Vector512.IsHardwareAccelerated);
        return supported;
    }

    /// <summary>Reads the current machine (Linux: /proc/cpuinfo; elsewhere only the architecture and .NET's view).</summary>
    public static CpuInfo Read() => Parse(File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "");

    /// <summary>The model name and ISA flags of the first processor in a /proc/cpuinfo text.</summary>
    public static CpuInfo Parse(string cpuinfo)
    {
        string? model = null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in cpuinfo.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (model is null && key is "model name" or "Model" or "cpu model" && value.Length > 0)
            {
                model = value;
            }
            else if (flags.Count == 0 && key is "flags" or "Features")
            {
                flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return new CpuInfo(
            model ?? RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            Environment.ProcessorCount,
            [.. KernelFlags.Where(flags.Contains)],
            RuntimeIntrinsics());
    }

    /// <summary>One line: model, cores, the kernel's ISA flags and .NET's.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"cpu: {Model}, {LogicalCores} logical cores; ISA {(Flags.Count > 0 ? string.Join(' ', Flags) : "(no flags listed)")}; .NET intrinsics {(Intrinsics.Count > 0 ? string.Join(' ', Intrinsics) : "none")}");
}

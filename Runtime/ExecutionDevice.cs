using System.Globalization;

namespace OnnxCnn.Runtime;

/// <summary>What kind of device a session runs on.</summary>
public enum DeviceKind
{
    /// <summary>ORT's CPU execution provider.</summary>
    Cpu,
    /// <summary>ORT's CUDA execution provider; an error if it cannot load.</summary>
    Cuda,
    /// <summary>CUDA when it loads, else CPU with one notice.</summary>
    Auto,
}

/// <summary>A device selection: <c>cpu</c>, <c>cuda</c>, <c>cuda:ID</c> or <c>auto</c>.</summary>
/// <param name="Kind">The kind of device.</param>
/// <param name="Id">The CUDA device ordinal (0 for CPU).</param>
public readonly record struct ExecutionDevice(DeviceKind Kind, int Id = 0)
{
    /// <summary>The CPU.</summary>
    public static ExecutionDevice Cpu => new(DeviceKind.Cpu);

    /// <summary>CUDA device 0, or an error if CUDA cannot load.</summary>
    public static ExecutionDevice Cuda => new(DeviceKind.Cuda);

    /// <summary>CUDA if it loads, else the CPU.</summary>
    public static ExecutionDevice Auto => new(DeviceKind.Auto);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>, <c>auto</c> (case-insensitive).</summary>
    public static ExecutionDevice Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu")
        {
            return Cpu;
        }

        if (t == "auto")
        {
            return Auto;
        }

        if (t == "cuda")
        {
            return Cuda;
        }

        if (t.StartsWith("cuda:", StringComparison.Ordinal) &&
            int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return new ExecutionDevice(DeviceKind.Cuda, id);
        }

        throw new FormatException($"device '{text}' is not one of cpu, cuda, cuda:N, auto.");
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Auto => "auto",
        _ => Id == 0 ? "cuda" : $"cuda:{Id}",
    };
}

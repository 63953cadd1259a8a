using System.CommandLine;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Internal;

/// <summary>The <c>--device</c> and <c>--threads</c> options shared by commands that run a model.</summary>
internal sealed class SessionArgs
{
    public Option<string> Device { get; } = new("--device") { Description = "cpu | cuda[:ID] | auto", DefaultValueFactory = _ => "cpu" };

    public Option<int> Threads { get; } = new("--threads") { Description = "intra-op threads (0 = ONNX Runtime's default, one per core)" };

    public Option<string?> Profile { get; } = new("--profile") { Description = "write ONNX Runtime's per-node timing (Chrome trace JSON) to PREFIX_<date>.json" };

    public void AddTo(Command command)
    {
        command.Add(Device);
        command.Add(Threads);
        command.Add(Profile);
    }

    public SessionOptions Read(ParseResult result)
    {
        var deviceText = result.GetValue(Device)!;
        ExecutionDevice device;
        try
        {
            device = ExecutionDevice.Parse(deviceText);
        }
        catch (FormatException e)
        {
            throw new UsageException("--device: " + e.Message);
        }

        var threads = result.GetValue(Threads);
        if (threads < 0)
        {
            throw new UsageException($"--threads must be 0 or more, got {threads}.");
        }

        return new SessionOptions { Device = device, IntraOpThreads = threads, ProfilingPrefix = result.GetValue(Profile) };
    }
}

using System.CommandLine;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Internal;

/// <summary>The <c>--device</c>, <c>--threads</c> and <c>--profile</c> options shared by commands that run a model, parsed while the command line is.</summary>
internal sealed class SessionArgs
{
    public SessionArgs()
    {
        Threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError($"--threads must be 0 or more, got {r.GetValueOrDefault<int>()}.");
            }
        });
    }

    public Option<ExecutionDevice> Device { get; } = new("--device")
    {
        Description = "cpu | cuda[:ID] | auto",
        HelpName = "cpu|cuda[:ID]|auto",
        DefaultValueFactory = _ => ExecutionDevice.Cpu,
        CustomParser = r =>
        {
            try
            {
                return ExecutionDevice.Parse(r.Tokens[0].Value);
            }
            catch (FormatException e)
            {
                r.AddError("--device: " + e.Message);
                return ExecutionDevice.Cpu;
            }
        },
    };

    public Option<int> Threads { get; } = new("--threads") { Description = "intra-op threads (0 = ONNX Runtime's default, one per core)" };

    public Option<string?> Profile { get; } = new("--profile") { Description = "write ONNX Runtime's per-node timing (Chrome trace JSON) to PREFIX_<date>.json" };

    public void AddTo(Command command)
    {
        command.Add(Device);
        command.Add(Threads);
        command.Add(Profile);
    }

    public SessionOptions Read(ParseResult result) =>
        new() { Device = result.GetValue(Device)!, IntraOpThreads = result.GetValue(Threads), ProfilingPrefix = result.GetValue(Profile) };
}

using System.CommandLine;
using OnnxCnn.Cli.Commands;
using Spectre.Console;

namespace OnnxCnn.Cli;

/// <summary>
/// The <c>onnxcnn</c> command line. Every failure is one line on standard error and a non-zero
/// exit code (2 for usage mistakes, 1 for everything else); <c>--verbose</c> adds the stack.
/// </summary>
public static class CliApp
{
    /// <summary>Shows stack traces on errors; accepted by every command.</summary>
    internal static readonly Option<bool> Verbose = new("--verbose") { Description = "show stack traces on errors", Recursive = true };

    /// <summary>Runs the CLI with the given arguments and writers; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = stdout == Console.Out && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = stdout == Console.Out && !Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = stdout == Console.Out && !Console.IsOutputRedirected ? InteractionSupport.Detect : InteractionSupport.No,
        });
        var context = new CliContext(console, stdout, stderr);
        var root = BuildRoot(context);
        var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
        var verbose = args.Contains("--verbose");
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            var path = command == root ? "onnxcnn" : "onnxcnn " + string.Join(' ', CommandPath(parsed.CommandResult));
            // An unrecognised token says more than "required command was not provided".
            var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            stderr.WriteLine($"error: {error.Message} (see '{path} --help')");
            return 2;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
            stderr.WriteLine(verbose ? $"error: {inner}" : $"error: {OneLine(MessageOf(inner))}");
            return ExitCodeOf(inner);
        }
    }

    /// <summary>
    /// 2 when the input was wrong — the call itself, a file or folder that is not there, a file
    /// that is not what it claims (corrupt image, truncated model, malformed .npy), a value the
    /// library refused; 1 for a failure while running on good input.
    /// </summary>
    internal static int ExitCodeOf(Exception e) => e switch
    {
        UsageException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException => 2,
        ArgumentException => 2,
        Runtime.OnnxRuntimeException { Code: Runtime.OrtErrorCode.InvalidProtobuf or Runtime.OrtErrorCode.InvalidGraph or Runtime.OrtErrorCode.NoModel } => 2,
        _ => 1,
    };

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r?.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent)
        {
            names.Push(r.Command.Name);
        }

        return names;
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>An exception's message without .NET's " (Parameter 'x')" suffix, which means nothing on a command line.</summary>
    internal static string MessageOf(Exception e) =>
        e is ArgumentException { ParamName: { } p } ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : e.Message;

    /// <summary>The command tree.</summary>
    internal static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand("OnnxCnn: run, fine-tune and edit convolutional image classifiers stored as ONNX, on ONNX Runtime.")
        {
            Verbose,
            InfoCommand.Create(context),
            InferCommand.Create(context),
            SummaryCommand.Create(context),
            GraphCommand.Create(context),
            ZooCommand.Create(context),
            FineTuneCommand.Create(context),
            EvalCommand.Create(context),
            PredictCommand.Create(context),
            PreprocessCommands.Preprocess(context),
            PreprocessCommands.AugmentPreview(context),
            ActivationsCommand.Create(context),
            ExplainCommand.Create(context),
            BenchCommand.Create(context),
            DemoCommand.Create(context),
        };
        return root;
    }
}

/// <summary>A mistake in how a command was called (exit code 2).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Where a command writes: a Spectre console for people, raw writers for JSON and errors.</summary>
internal sealed record CliContext(IAnsiConsole Console, TextWriter Out, TextWriter Error);

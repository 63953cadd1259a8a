using System.CommandLine;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Commands;

/// <summary>
/// <c>onnxcnn infer MODEL --input NAME=FILE.npy … --out DIR</c>: runs a model on .npy tensors and
/// writes every output as DIR/&lt;output name&gt;.npy. Outputs appear all at once or not at all.
/// </summary>
internal static class InferCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "an .onnx model file" };
        var inputs = new Option<string[]>("--input", "-i")
        {
            Description = "NAME=FILE.npy for each model input (FILE.npy alone for a single-input model)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var outDir = new Option<string>("--out", "-o") { Description = "folder for the output .npy files", Required = true };
        var session = new SessionArgs();
        var overwrite = new Option<bool>(OutputFiles.OverwriteFlag) { Description = "replace .npy files that already exist in the folder" };
        var command = new Command("infer", "Run a model on .npy input tensors and write its outputs as .npy files.") { model, inputs, outDir, overwrite };
        session.AddTo(command);
        command.SetAction(r => Run(context, r.GetValue(model)!, r.GetValue(inputs)!, r.GetValue(outDir)!, session.Read(r), r.GetValue(overwrite)));
        return command;
    }

    private static int Run(CliContext context, string modelPath, string[] inputSpecs, string outDir, SessionOptions options, bool overwrite)
    {
        ModelFiles.Require(modelPath);
        if (File.Exists(outDir))
        {
            throw new UsageException($"--out '{outDir}' is a file; give a folder.");
        }

        using var session = InferenceSession.Open(modelPath, options);
        OutputFiles.RequireWritable(outDir, session.Outputs.Select(o => ModelFiles.SafeFileName(o.Name) + ".npy"), "--out", overwrite);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var spec in inputSpecs)
            {
                var (name, file) = SplitInput(spec, session);
                tensors.Add(new(name, Npy.Read(file)));
            }

            using var result = session.Run(tensors);
            WriteAll(outDir, result);
            foreach (var (name, tensor) in result)
            {
                context.Out.WriteLine($"{name}: {tensor.ElementType.Name()}{tensor.ShapeText} -> {Path.Combine(outDir, ModelFiles.SafeFileName(name) + ".npy")}");
            }
        }
        finally
        {
            foreach (var (_, t) in tensors)
            {
                t.Dispose();
            }
        }

        return 0;
    }

    private static (string Name, string File) SplitInput(string spec, InferenceSession session)
    {
        var eq = spec.IndexOf('=');
        if (eq < 0)
        {
            if (session.Inputs.Count != 1)
            {
                throw new UsageException($"--input '{spec}' has no NAME=; the model has {session.Inputs.Count} inputs ({string.Join(", ", session.Inputs.Select(i => i.Name))}).");
            }

            return (session.Inputs[0].Name, spec);
        }

        var name = spec[..eq];
        if (!session.Inputs.Any(i => i.Name == name))
        {
            throw new UsageException($"--input '{spec}': the model has no input '{name}'; its inputs are: {string.Join(", ", session.Inputs.Select(i => i.Name))}.");
        }

        return (name, spec[(eq + 1)..]);
    }

    /// <summary>Writes every output to a temporary name first, then renames them all; a failure removes what was written.</summary>
    private static void WriteAll(string outDir, RunResult result)
    {
        var createdDir = !Directory.Exists(outDir);
        Directory.CreateDirectory(outDir);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var staged = new List<(string Temp, string Final)>();
        try
        {
            foreach (var (name, tensor) in result)
            {
                var file = ModelFiles.SafeFileName(name);
                for (var n = 2; !names.Add(file); n++)
                {
                    file = ModelFiles.SafeFileName(name) + "_" + n;
                }

                var final = Path.Combine(outDir, file + ".npy");
                var temp = Path.Combine(outDir, "." + file + ".npy.partial");
                staged.Add((temp, final));
                using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
                {
                    Npy.Write(stream, tensor);
                }
            }

            foreach (var (temp, final) in staged)
            {
                File.Move(temp, final, overwrite: true);
            }
        }
        catch
        {
            foreach (var (temp, _) in staged)
            {
                File.Delete(temp);
            }

            if (createdDir && !Directory.EnumerateFileSystemEntries(outDir).Any())
            {
                Directory.Delete(outDir);
            }

            throw;
        }
    }
}

using System.Text;
using OnnxCnn.Cli;
using OnnxCnn.Preprocess;
using OnnxCnn.TestUtilities;
using OnnxCnn.Training;
using static OnnxCnn.TestUtilities.ModelBuilder;

namespace OnnxCnn.Fuzz.Targets;

/// <summary>
/// Labels and preprocessing as <c>predict</c> reads them: from a model's metadata
/// (<c>onnxcnn.labels</c>, <c>onnxcnn.preprocess</c>) or from a <c>--labels</c> file. Runs the
/// real command in-process; its contract is exit code 0, or 1/2 with exactly one
/// <c>error: …</c> line on standard error and no stack trace.
/// Parts: the model file, then the labels file (absent when empty: labels come from the metadata).
/// </summary>
internal static class LabelsMetadataTarget
{
    private static readonly Lazy<string> Image = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"onnxcnn-fuzz-image-{Environment.ProcessId}.png");
        using var image = SpecTargets.TestImage(20, 18);
        File.WriteAllBytes(path, PngEncoder.Encode(image));
        return path;
    });

    public static FuzzTarget Create() => new()
    {
        Name = "labels-metadata",
        Description = "onnxcnn predict MODEL IMAGE --json [--labels FILE], in-process, on a model with labels/preprocessing metadata and a labels file",
        Execute = Execute,
        Expected = [typeof(CliRejectedException)],
        Seeds = Seeds,
        Dictionary = ImageTargets.Tokens(FineTuner.LabelsKey, FineTuner.PreprocessKey, "\n", "\r\n", "\0", " ", "resize=16x16", "scale=1/255", "crop=", ",", "=", "\uFEFF", "\u2028"),
    };

    private static void Execute(byte[] data)
    {
        var parts = Parts.Split(data, 2);
        var dir = Scratch.Folder("labels-metadata");
        var model = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(model, parts[0]);
        List<string> args = ["predict", model, Image.Value, "--json", "--top", "3"];
        if (parts[1].Length > 0)
        {
            File.WriteAllBytes(Path.Combine(dir, "labels.txt"), parts[1]);
            args.AddRange(["--labels", Path.Combine(dir, "labels.txt")]);
        }

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run([.. args], stdout, stderr);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (code == 0)
        {
            ImageTargets.Require(stdout.ToString().TrimStart().StartsWith('['), $"exit 0 without JSON output: {stdout}");
            return;
        }

        ImageTargets.Require(code is 1 or 2, $"exit code {code}");
        ImageTargets.Require(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal) && !lines[0].Contains("   at ", StringComparison.Ordinal),
            $"exit {code} with stderr '{stderr}'");
        throw new CliRejectedException(lines[0]);
    }

    private static IEnumerable<(string, byte[])> Seeds()
    {
        byte[] Model(string? labels, string? preprocess)
        {
            var random = new Random(3);
            var b = new ModelBuilder()
                .Input("image", Graphs.Proto.TensorProto.Types.DataType.Float, "batch", 3, 16, 16)
                .Initializer("fc.weight", Enumerable.Range(0, 5 * 768).Select(_ => random.NextSingle() - 0.5f).ToArray(), 5, 768)
                .Initializer("fc.bias", new float[5], 5)
                .Node("Flatten", ["image"], ["f"])
                .Node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], Int("transB", 1))
                .Output("logits", Graphs.Proto.TensorProto.Types.DataType.Float, "batch", 5);
            if (labels is not null)
            {
                b.Metadata(FineTuner.LabelsKey, labels);
            }

            if (preprocess is not null)
            {
                b.Metadata(FineTuner.PreprocessKey, preprocess);
            }

            return b.ToBytes();
        }

        byte[] Text(string s) => Encoding.UTF8.GetBytes(s);
        yield return ("metadata.bin", Parts.Join(Model("cat\ndog\nfox\nowl\nyak", "resize=16x16,scale=1/255"), []));
        yield return ("labels_file.bin", Parts.Join(Model(null, "resize=16x16,scale=1/255"), Text("cat\ndog\nfox\nowl\nyak\n")));
        yield return ("both.bin", Parts.Join(Model("a\nb\nc\nd\ne", "resize=20,crop=16x16,scale=1/255,mean=0.5:0.5:0.5,std=0.5:0.5:0.5"), Text("one\r\ntwo\r\nthree\r\nfour\r\nfive\r\n")));
        yield return ("too_few.bin", Parts.Join(Model("a\nb", "resize=16x16"), []));
    }
}

/// <summary>The CLI refused an input the way its contract says: exit code 1 or 2 and one error line.</summary>
public sealed class CliRejectedException(string message) : Exception(message);

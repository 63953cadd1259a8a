using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Preprocess;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// The fine-tuned inference model — the trained weights in the original graph, a binary model's output turned into
/// P(class 1), labels and preprocessing in its metadata, each a validated Graphs edit — and the files that go with it.
/// </summary>
internal static class Exporter
{
    public static OnnxModel Export(TrainingSession session, bool binary, IReadOnlyList<string> classes, PreprocessSpec preprocess)
    {
        var model = session.ExportInference();
        if (binary)
        {
            model = OutputEdits.AppendSigmoid(model);
        }

        return OutputEdits.SetMetadata(model, new Dictionary<string, string>
        {
            [FineTuner.LabelsKey] = string.Join('\n', classes),
            [FineTuner.PreprocessKey] = preprocess.ToString(),
        });
    }

    /// <summary>model.onnx, labels.txt and the training graphs under artifacts/.</summary>
    public static void Write(RunContext run, OnnxModel model, TrainingSession session, IReadOnlyList<string> classes)
    {
        Directory.CreateDirectory(run.Artifacts);
        model.Save(Path.Combine(run.OutputDirectory, "model.onnx"));
        session.Graph.Step.Save(Path.Combine(run.Artifacts, "training_step.onnx"));
        session.Graph.Eval.Save(Path.Combine(run.Artifacts, "eval.onnx"));
        session.Graph.Prefix?.Save(Path.Combine(run.Artifacts, "frozen_prefix.onnx"));
        AtomicFile.WriteText(Path.Combine(run.OutputDirectory, "labels.txt"), string.Join('\n', classes) + "\n");
    }
}

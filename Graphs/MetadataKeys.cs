namespace OnnxCnn.Graphs;

/// <summary>
/// The keys OnnxCnn writes into an ONNX model's <c>metadata_props</c>, read back by the runtime's
/// <c>Classifier</c> and by the tools: a fine-tuned model carries its labels and preprocessing.
/// </summary>
public static class MetadataKeys
{
    /// <summary>The class labels, one per line, in class-index order.</summary>
    public const string Labels = "onnxcnn.labels";

    /// <summary>The preprocessing spec the model was trained with (<c>PreprocessSpec</c> text).</summary>
    public const string Preprocess = "onnxcnn.preprocess";
}

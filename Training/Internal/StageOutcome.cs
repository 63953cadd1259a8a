using System.Text.Json.Nodes;

namespace OnnxCnn.Training.Internal;

/// <summary>What one stage leaves behind: its history (with earlier stages'), the exported model's validation, and its metrics.json document.</summary>
internal sealed record StageOutcome(IReadOnlyList<EpochResult> History, Validation? Validation, IReadOnlyList<string> Parameters, JsonObject Metrics)
{
    public double ValidationLoss => Validation?.Loss ?? double.NaN;
}

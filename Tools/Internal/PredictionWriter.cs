using System.Globalization;
using System.Text.Json;
using OnnxCnn.Runtime;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// predict's output, written one image at a time: a line per image, or with <c>--json</c> the indented array
/// <c>[{"file", "top": [{"label", "probability"}]}]</c> element by element, byte for byte what serialising the whole
/// list at the end would give.
/// </summary>
internal sealed class PredictionWriter(TextWriter output, bool json)
{
    private int written;

    public void Write(string file, IReadOnlyList<Prediction> top)
    {
        if (!json)
        {
            output.WriteLine($"{file}: {string.Join(", ", top.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Label} {t.Probability:F4}")))}");
        }
        else
        {
            var element = JsonSerializer.Serialize(new { file, top = top.Select(t => new { label = t.Label, probability = t.Probability }) }, JsonOutput.Options);
            output.Write(written == 0 ? "[" + Environment.NewLine : "," + Environment.NewLine);
            output.Write("  " + element.ReplaceLineEndings(Environment.NewLine + "  "));
        }

        written++;
        output.Flush();
    }

    /// <summary>Closes the JSON array (an empty one when no image was classified). A run that fails part-way leaves it open: what it wrote does not parse as a finished answer.</summary>
    public void Finish()
    {
        if (json)
        {
            output.WriteLine(written == 0 ? "[]" : Environment.NewLine + "]");
        }
    }
}

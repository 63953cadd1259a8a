using System.Globalization;
using System.Text;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>Spec text quoted in an error message, which must stay one readable line whatever the input held.</summary>
internal static class SpecText
{
    /// <summary>Control characters (and line/paragraph separators) escaped as \xNN, at most 300 characters.</summary>
    public static string OneLine(string message)
    {
        var builder = new StringBuilder(Math.Min(message.Length, 300));
        foreach (var c in message)
        {
            if (builder.Length >= 300)
            {
                return builder.Append('…').ToString();
            }

            _ = char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085'
                ? builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}")
                : builder.Append(c);
        }

        return builder.ToString();
    }
}

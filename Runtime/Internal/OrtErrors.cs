using System.Text.RegularExpressions;
using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// Turns ORT's managed exceptions into <see cref="OnnxRuntimeException"/> with ORT's error code.
/// ORT's exception carries the code only in its message ("[ErrorCode:Fail] …"), so it is read from there.
/// </summary>
internal static partial class OrtErrors
{
    public static OnnxRuntimeException Convert(Ort.OnnxRuntimeException e, string? context = null)
    {
        var (code, message) = Split(e.Message);
        return new OnnxRuntimeException(code, context is null ? message : $"{context}: {message}", e);
    }

    /// <summary>Runs <paramref name="action"/>, converting ORT's exception.</summary>
    public static T Call<T>(Func<T> action, string? context = null)
    {
        try
        {
            return action();
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw Convert(e, context);
        }
    }

    /// <summary>ORT's error code and the message without its "[ErrorCode:…]" prefix.</summary>
    public static (OrtErrorCode Code, string Message) Split(string message)
    {
        var m = Prefix().Match(message);
        if (!m.Success)
        {
            return (OrtErrorCode.Fail, message);
        }

        var code = Enum.TryParse<OrtErrorCode>(m.Groups[1].Value, out var parsed) ? parsed : OrtErrorCode.Fail;
        return (code, message[m.Length..]);
    }

    [GeneratedRegex(@"^\[ErrorCode:(\w+)\]\s*")]
    private static partial Regex Prefix();
}

namespace OnnxCnn.Fuzz;

/// <summary>
/// One parser or decoder fed outside bytes. <see cref="Execute"/> either returns (the input was
/// accepted and its result passed the target's own checks) or throws one of
/// <see cref="Expected"/> with a non-empty message (a clean rejection). Anything else — another
/// exception type, an empty message, a process crash, a hang or an unbounded allocation — is a bug.
/// </summary>
public sealed class FuzzTarget
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    /// <summary>Runs one input through the parser; throws on rejection.</summary>
    public required Action<byte[]> Execute { get; init; }

    /// <summary>The exception types (exact, not subclasses) that mean "input rejected cleanly".</summary>
    public required IReadOnlyList<Type> Expected { get; init; }

    /// <summary>Valid and near-valid inputs to start from.</summary>
    public required Func<IEnumerable<(string Name, byte[] Data)>> Seeds { get; init; }

    /// <summary>Tokens the mutator inserts and overwrites with (format keywords, magic numbers).</summary>
    public IReadOnlyList<byte[]> Dictionary { get; init; } = [];

    /// <summary>True when <paramref name="e"/> is a clean rejection under this target's contract.</summary>
    public bool IsExpected(Exception e) =>
        Expected.Contains(e.GetType()) && !string.IsNullOrWhiteSpace(e.Message) && !e.Message.Contains('\n', StringComparison.Ordinal);

    /// <summary>Runs one input; null when it was accepted or cleanly rejected, else the offending exception.</summary>
    public Exception? Check(byte[] input)
    {
        try
        {
            Execute(input);
            return null;
        }
        catch (Exception e) when (IsExpected(e))
        {
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}

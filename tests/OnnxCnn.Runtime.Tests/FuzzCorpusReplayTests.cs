using OnnxCnn.Fuzz;

namespace OnnxCnn.Runtime.Tests;

/// <summary>
/// The committed fuzz corpus (tests/fixtures/fuzz/, written by tests/OnnxCnn.Fuzz) replayed: each
/// input is accepted or rejected with one of the target's exception types and a one-line message.
/// </summary>
public class FuzzCorpusReplayTests
{
    public static IEnumerable<object[]> NpyReadCorpus => CorpusReplay.Files("npy");

    [Theory]
    [MemberData(nameof(NpyReadCorpus))]
    public void NpyRead_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("npy", file);
        Assert.True(failure is null, failure);
    }
}

using OnnxCnn.Fuzz;

namespace OnnxCnn.Training.Tests;

/// <summary>
/// The committed fuzz corpus (tests/fixtures/fuzz/, written by tests/OnnxCnn.Fuzz) replayed: each
/// input is accepted or rejected with one of the target's exception types and a one-line message.
/// </summary>
public class FuzzCorpusReplayTests
{
    public static IEnumerable<object[]> LoadCheckpointCorpus => CorpusReplay.Files("checkpoint");

    [Theory]
    [MemberData(nameof(LoadCheckpointCorpus))]
    public void LoadCheckpoint_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("checkpoint", file);
        Assert.True(failure is null, failure);
    }
}

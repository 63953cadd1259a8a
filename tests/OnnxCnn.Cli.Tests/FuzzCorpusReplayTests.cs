using OnnxCnn.Fuzz;

namespace OnnxCnn.Cli.Tests;

/// <summary>
/// The committed fuzz corpus (tests/fixtures/fuzz/, written by tests/OnnxCnn.Fuzz) replayed: each
/// input is accepted or rejected with one of the target's exception types and a one-line message.
/// </summary>
public class FuzzCorpusReplayTests
{
    public static IEnumerable<object[]> PredictLabelsAndMetadataCorpus => CorpusReplay.Files("labels-metadata");

    [Theory]
    [MemberData(nameof(PredictLabelsAndMetadataCorpus))]
    public void PredictLabelsAndMetadata_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("labels-metadata", file);
        Assert.True(failure is null, failure);
    }
}

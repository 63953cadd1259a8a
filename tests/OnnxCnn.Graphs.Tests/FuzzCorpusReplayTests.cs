using OnnxCnn.Fuzz;

namespace OnnxCnn.Graphs.Tests;

/// <summary>
/// The committed fuzz corpus (tests/fixtures/fuzz/, written by tests/OnnxCnn.Fuzz) replayed: each
/// input is accepted or rejected with one of the target's exception types and a one-line message.
/// </summary>
public class FuzzCorpusReplayTests
{
    public static IEnumerable<object[]> OnnxModelLoadCorpus => CorpusReplay.Files("onnx");

    [Theory]
    [MemberData(nameof(OnnxModelLoadCorpus))]
    public void OnnxModelLoad_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("onnx", file);
        Assert.True(failure is null, failure);
    }
}

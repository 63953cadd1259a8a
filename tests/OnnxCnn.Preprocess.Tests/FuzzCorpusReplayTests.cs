using OnnxCnn.Fuzz;

namespace OnnxCnn.Preprocess.Tests;

/// <summary>
/// The committed fuzz corpus (tests/fixtures/fuzz/, written by tests/OnnxCnn.Fuzz) replayed: each
/// input is accepted or rejected with one of the target's exception types and a one-line message.
/// </summary>
public class FuzzCorpusReplayTests
{
    public static IEnumerable<object[]> JpegDecodeCorpus => CorpusReplay.Files("jpeg");

    [Theory]
    [MemberData(nameof(JpegDecodeCorpus))]
    public void JpegDecode_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("jpeg", file);
        Assert.True(failure is null, failure);
    }

    public static IEnumerable<object[]> PngDecodeCorpus => CorpusReplay.Files("png");

    [Theory]
    [MemberData(nameof(PngDecodeCorpus))]
    public void PngDecode_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("png", file);
        Assert.True(failure is null, failure);
    }

    public static IEnumerable<object[]> PreprocessSpecParseCorpus => CorpusReplay.Files("preprocess-spec");

    [Theory]
    [MemberData(nameof(PreprocessSpecParseCorpus))]
    public void PreprocessSpecParse_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("preprocess-spec", file);
        Assert.True(failure is null, failure);
    }

    public static IEnumerable<object[]> AugmentSpecParseCorpus => CorpusReplay.Files("augment-spec");

    [Theory]
    [MemberData(nameof(AugmentSpecParseCorpus))]
    public void AugmentSpecParse_CorpusInput_AcceptedOrRejectedWithinContract(string file)
    {
        var failure = CorpusReplay.Run("augment-spec", file);
        Assert.True(failure is null, failure);
    }
}

using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

/// <summary>Parity with PyTorch on a torchvision-style CNN exported by torch.onnx (tests/fixtures/generate.py).</summary>
public class GoldenTests
{
    [Fact]
    public void TinyResNet_Logits_MatchPyTorchTo1e4Relative()
    {
        using var session = InferenceSession.Open(RepoPaths.Fixture("tiny_resnet", "model.onnx"));
        using var input = Npy.Read(RepoPaths.Fixture("tiny_resnet", "input.npy"));
        using var expected = Npy.Read(RepoPaths.Fixture("tiny_resnet", "logits.npy"));
        using var result = session.Run(input);
        var ours = result["logits"].As<float>().Span;
        var theirs = expected.As<float>().Span;
        Assert.Equal(expected.Shape, result["logits"].Shape);
        var scale = 0f;
        foreach (var v in theirs)
        {
            scale = Math.Max(scale, Math.Abs(v));
        }

        for (var i = 0; i < ours.Length; i++)
        {
            // Relative to the logits' magnitude: 1e-4 of the largest logit, as float32 allows.
            Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-4 * scale, $"logit {i}: {ours[i]} vs PyTorch {theirs[i]}");
        }
    }
}

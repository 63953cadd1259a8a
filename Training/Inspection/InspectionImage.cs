using OnnxCnn.Graphs;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;

namespace OnnxCnn.Training.Inspection;

/// <summary>
/// One image made ready for inspection: the picture as the model sees it (after resize and crop) and its
/// input tensor (batch 1). Dispose it to release both.
/// </summary>
public sealed class InspectionImage : IDisposable
{
    private InspectionImage(RgbImage picture, Tensor<float> tensor)
    {
        Picture = picture;
        Tensor = tensor;
    }

    /// <summary>The image after the spec's resize and crop (before scaling and normalising): what heat maps are drawn over.</summary>
    public RgbImage Picture { get; }

    /// <summary>The model input: 1×3×H×W (or 1×H×W×3 for <c>layout=nhwc</c>).</summary>
    public Tensor<float> Tensor { get; }

    /// <summary>
    /// Decodes <paramref name="path"/> as the training pipeline does (DCT-domain downscaling when the image is at
    /// least twice the size the spec needs) and applies <paramref name="spec"/>. When <paramref name="model"/> is
    /// given and its input has a fixed spatial size, an image that comes out another size is an
    /// <see cref="ArgumentException"/> saying which resize to add.
    /// </summary>
    public static InspectionImage Load(string path, PreprocessSpec spec, OnnxModel? model = null)
    {
        // The same decode rule as BatchPipeline.DefaultLoader, so inspection sees the pixels training saw.
        var target = spec.Resize switch
        {
            ResizeMode.ShorterSide => spec.ResizeHeight,
            ResizeMode.Exact or ResizeMode.Fit => Math.Max(spec.ResizeHeight, spec.ResizeWidth),
            _ => 0,
        };
        var options = target > 0 ? new DecodeOptions { MinWidth = 2 * target, MinHeight = 2 * target } : DecodeOptions.Default;
        using var decoded = ImageDecoder.DecodeFile(path, options);
        return FromImage(decoded, spec, model, path);
    }

    /// <summary>Applies <paramref name="spec"/> to an already decoded image (see <see cref="Load"/>).</summary>
    public static InspectionImage FromImage(RgbImage image, PreprocessSpec spec, OnnxModel? model = null, string name = "the image")
    {
        var picture = ImageTransforms.Apply(image, spec);
        try
        {
            if (model is not null && ExpectedSize(model, spec.Nhwc) is var (h, w) && (h != picture.Height || w != picture.Width))
            {
                throw new ArgumentException($"{name} comes out {picture.Height}x{picture.Width} (H×W) after preprocessing '{spec}', but the model takes {h}x{w}; "
                    + $"add resize={h}x{w} (or crop={h}x{w}) to the preprocessing.");
            }

            long[] shape = spec.Nhwc ? [1, picture.Height, picture.Width, 3] : [1, 3, picture.Height, picture.Width];
            var tensor = Tensor<float>.Create(shape);
            ImageTransforms.ToTensor(picture, spec, tensor.Span);
            return new InspectionImage(picture, tensor);
        }
        catch
        {
            picture.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Picture.Dispose();
        Tensor.Dispose();
    }

    /// <summary>The model input's fixed (H, W), or null when either is symbolic.</summary>
    private static (long, long)? ExpectedSize(OnnxModel model, bool nhwc)
    {
        var input = model.Graph.Input.First(i => i.Name == Internal.LayerFinder.Input(model));
        var dims = ShapeInference.FromValueInfo(input).Dims;
        if (dims is not { Length: 4 })
        {
            return null;
        }

        var (h, w) = nhwc ? (dims[1], dims[2]) : (dims[2], dims[3]);
        return h.IsKnown && w.IsKnown ? (h.Value, w.Value) : null;
    }
}

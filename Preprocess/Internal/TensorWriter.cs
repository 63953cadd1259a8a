using System.Runtime.CompilerServices;

namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// The float conversion of a <see cref="PreprocessSpec"/> (scale, mean, std, channel order,
/// layout), prepared once and applied to runs of pixels — a whole image or one row of it — so
/// resize and conversion can run row by row into a batch tensor. The arithmetic is
/// <see cref="ImageTransforms.ToTensor"/>'s, operation for operation.
/// </summary>
internal struct TensorWriter
{
    private Float3 scale;
    private Float3 mean;
    private Float3 std;
    private Int3 planes;
    private readonly bool nhwc;
    private readonly bool divide;
    private readonly float divisor;

    public TensorWriter(PreprocessSpec spec)
    {
        nhwc = spec.Nhwc;
        for (var c = 0; c < 3; c++)
        {
            scale[c] = spec.Scale;
            mean[c] = spec.Mean[c];
            std[c] = spec.Std[c];
            planes[c] = spec.Bgr ? 2 - c : c;
        }

        // torchvision's ToTensor divides by 255 (not a multiply by 1/255): do the same when the scale is 1/N.
        divisor = spec.Scale > 0 ? MathF.Round(1f / spec.Scale) : 0;
        divide = divisor > 1 && Math.Abs((1f / divisor) - spec.Scale) < 1e-9f;
        if (!divide)
        {
            divisor = 0;
        }
    }

    /// <summary>
    /// Converts <paramref name="count"/> HWC pixels starting at pixel <paramref name="pixel"/> of a
    /// tensor whose planes are <paramref name="planeStride"/> values apart (NCHW; ignored for NHWC).
    /// </summary>
    public void Write(ReadOnlySpan<byte> rgb, Span<float> tensor, int pixel, int count, int planeStride)
    {
        if (nhwc)
        {
            var destination = tensor.Slice(pixel * 3, count * 3);
            for (var i = 0; i < count; i++)
            {
                for (var c = 0; c < 3; c++)
                {
                    destination[(i * 3) + c] = ((rgb[(i * 3) + planes[c]] * scale[c]) - mean[c]) / std[c];
                }
            }

            return;
        }

        var row = tensor[pixel..];
        var done = TensorKernels.Planes(ImageTransforms.VectorWidth, rgb, row, count, planeStride, divide, divisor, scale, mean, std, planes);
        for (var c = 0; c < 3; c++)
        {
            var plane = row.Slice(c * planeStride, count);
            var source = planes[c];
            var k = scale[c];
            var m = mean[c];
            var s = std[c];
            for (var i = done; i < count; i++)
            {
                plane[i] = divide ? ((rgb[(i * 3) + source] / divisor) - m) / s : ((rgb[(i * 3) + source] * k) - m) / s;
            }
        }
    }

    [InlineArray(3)]
    private struct Float3
    {
        private float element;
    }

    [InlineArray(3)]
    private struct Int3
    {
        private int element;
    }
}

/// <summary>Writes resampled rows straight into a tensor of width×height pixels.</summary>
internal ref struct TensorSink(Span<float> tensor, TensorWriter writer, int width, int height) : PilResample.IRowSink
{
    private readonly Span<float> tensor = tensor;
    private TensorWriter writer = writer;

    public void Row(int y, ReadOnlySpan<byte> rgb) => writer.Write(rgb, tensor, y * width, width, width * height);
}

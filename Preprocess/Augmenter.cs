using OnnxCnn.Preprocess.Internal;

namespace OnnxCnn.Preprocess;

/// <summary>The random draw of one sample's augmentation (Keras ImageDataGenerator's parameters, plus torchvision's).</summary>
/// <param name="Theta">Rotation in degrees.</param>
/// <param name="Tx">Vertical shift in pixels (Keras' tx, along rows).</param>
/// <param name="Ty">Horizontal shift in pixels (Keras' ty, along columns).</param>
/// <param name="Shear">Shear in degrees.</param>
/// <param name="Zx">Zoom along rows.</param>
/// <param name="Zy">Zoom along columns.</param>
/// <param name="FlipHorizontal">Mirror left-right.</param>
/// <param name="FlipVertical">Mirror top-bottom.</param>
/// <param name="Crop">Random resized crop box (top, left, height, width) in source pixels, or null.</param>
/// <param name="ColourOrder">Order of brightness(0)/contrast(1)/saturation(2)/hue(3), with their factors.</param>
public sealed record AugmentDraw(double Theta, double Tx, double Ty, double Shear, double Zx, double Zy, bool FlipHorizontal, bool FlipVertical,
    (double Top, double Left, double Height, double Width)? Crop, IReadOnlyList<(int Op, double Factor)> ColourOrder)
{
    /// <summary>No augmentation.</summary>
    public static AugmentDraw Identity { get; } = new(0, 0, 0, 0, 1, 1, false, false, null, []);
}

/// <summary>
/// Training-time augmentation. Every geometric step (Keras' rotation, shift, shear, zoom, flips;
/// torchvision's random resized crop) <b>and</b> the final resize/crop of the preprocessing spec are
/// composed into one affine map from output to source pixels, sampled once (bilinear) with the
/// chosen fill mode; colour jitter follows on the result. Deterministic for a given
/// (seed, epoch, sample index), whatever the thread.
/// </summary>
public sealed class Augmenter(AugmentSpec spec, long seed)
{
    /// <summary>The spec.</summary>
    public AugmentSpec Spec { get; } = spec;

    /// <summary>Draws the random parameters for one sample of a source image of the given size.</summary>
    public AugmentDraw Draw(int width, int height, int epoch, long index)
    {
        var r = new SampleRandom(seed, epoch, index);
        var s = Spec;
        var theta = s.Rotation > 0 ? r.Uniform(-s.Rotation, s.Rotation) : 0;
        var tx = s.HeightShift > 0 ? r.Uniform(-s.HeightShift, s.HeightShift) * height : 0;
        var ty = s.WidthShift > 0 ? r.Uniform(-s.WidthShift, s.WidthShift) * width : 0;
        var shear = s.Shear > 0 ? r.Uniform(-s.Shear, s.Shear) : 0;
        double zx = 1, zy = 1;
        if (s.Zoom != (1, 1))
        {
            zx = r.Uniform(s.Zoom.Low, s.Zoom.High);
            zy = r.Uniform(s.Zoom.Low, s.Zoom.High);
        }

        var flipH = s.HorizontalFlip && r.Coin();
        var flipV = s.VerticalFlip && r.Coin();
        var crop = s.RandomResizedCrop is { } range ? RandomCrop(ref r, width, height, range) : ((double, double, double, double)?)null;
        var colour = new List<(int, double)>();
        if (s.HasColour)
        {
            // torchvision's ColorJitter: a random order, each factor drawn in its range.
            var order = new[] { 0, 1, 2, 3 };
            for (var i = 3; i > 0; i--)
            {
                var j = r.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }

            foreach (var op in order)
            {
                var amount = op switch { 0 => s.Brightness, 1 => s.Contrast, 2 => s.Saturation, _ => s.Hue };
                if (amount > 0)
                {
                    colour.Add((op, op == 3 ? r.Uniform(-amount, amount) : r.Uniform(Math.Max(0, 1 - amount), 1 + amount)));
                }
            }
        }

        return new AugmentDraw(theta, tx, ty, shear, zx, zy, flipH, flipV, crop, colour);
    }

    /// <summary>
    /// Augments one image and brings it to the spec's final size in a single resampling; returns a
    /// new image (the spec's resize/crop, or the source size when it has none).
    /// </summary>
    public RgbImage Apply(RgbImage image, PreprocessSpec final, int epoch, long index) =>
        Apply(image, final, Draw(image.Width, image.Height, epoch, index));

    /// <summary>Applies a given draw (for tests and previews).</summary>
    public RgbImage Apply(RgbImage image, PreprocessSpec final, AugmentDraw draw)
    {
        var (outW, outH, toAugmented) = FinalGeometry(image.Width, image.Height, final, draw.Crop);
        var map = Affine.Multiply(KerasMatrix(image.Width, image.Height, draw), toAugmented);
        var output = Warp.Bilinear(image, map, outW, outH, Spec.Fill, Spec.FillValue);
        if (draw.ColourOrder.Count > 0)
        {
            ColourJitter.Apply(output, draw.ColourOrder);
        }

        return output;
    }

    /// <summary>Random erasing on one sample (torchvision RandomErasing: area 2–33 %, aspect 0.3–3.3, value 0), CHW or HWC.</summary>
    public void Erase(Span<float> chw, int width, int height, int epoch, long index, bool nhwc = false)
    {
        if (Spec.Erase <= 0)
        {
            return;
        }

        var r = new SampleRandom(seed ^ 0x5EED, epoch, index);
        if (!r.Coin(Spec.Erase))
        {
            return;
        }

        var area = width * height;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * r.Uniform(0.02, 0.33);
            var ratio = Math.Exp(r.Uniform(Math.Log(0.3), Math.Log(3.3)));
            var h = (int)Math.Round(Math.Sqrt(target * ratio));
            var w = (int)Math.Round(Math.Sqrt(target / ratio));
            if (h >= height || w >= width || h < 1 || w < 1)
            {
                continue;
            }

            var top = r.NextInt(height - h + 1);
            var left = r.NextInt(width - w + 1);
            for (var y = top; y < top + h; y++)
            {
                if (nhwc)
                {
                    chw.Slice(((y * width) + left) * 3, w * 3).Clear();
                    continue;
                }

                for (var c = 0; c < 3; c++)
                {
                    chw.Slice((c * area) + (y * width) + left, w).Clear();
                }
            }

            return;
        }
    }

    /// <summary>
    /// Keras' apply_affine_transform matrix, in (row, column) coordinates, mapping a pixel of the
    /// augmented image to the source image: centre · rotation · shift · shear · zoom · centre⁻¹,
    /// then the flips (which Keras applies after the warp).
    /// </summary>
    public static double[] KerasMatrix(int width, int height, AugmentDraw d)
    {
        var theta = d.Theta * Math.PI / 180;
        var shear = d.Shear * Math.PI / 180;
        double[] rotation = [Math.Cos(theta), -Math.Sin(theta), 0, Math.Sin(theta), Math.Cos(theta), 0, 0, 0, 1];
        double[] shift = [1, 0, d.Tx, 0, 1, d.Ty, 0, 0, 1];
        double[] shearing = [1, -Math.Sin(shear), 0, 0, Math.Cos(shear), 0, 0, 0, 1];
        double[] zoom = [d.Zx, 0, 0, 0, d.Zy, 0, 0, 0, 1];
        var m = Affine.Multiply(Affine.Multiply(rotation, shift), Affine.Multiply(shearing, zoom));
        var oRow = (height / 2.0) - 0.5;
        var oCol = (width / 2.0) - 0.5;
        m = Affine.Multiply(Affine.Multiply([1, 0, oRow, 0, 1, oCol, 0, 0, 1], m), [1, 0, -oRow, 0, 1, -oCol, 0, 0, 1]);
        // Flips mirror the warped image: output (r, c) reads warped (r', c') = mirrored coordinates.
        double[] flip = [d.FlipVertical ? -1 : 1, 0, d.FlipVertical ? height - 1 : 0, 0, d.FlipHorizontal ? -1 : 1, d.FlipHorizontal ? width - 1 : 0, 0, 0, 1];
        return Affine.Multiply(m, flip);
    }

    /// <summary>The final size and the map from final pixels to augmented-image pixels (PIL's pixel-centre convention).</summary>
    private static (int Width, int Height, double[] Map) FinalGeometry(int width, int height, PreprocessSpec final, (double Top, double Left, double Height, double Width)? crop)
    {
        int outW, outH;
        if (crop is { } box)
        {
            // Random resized crop replaces the spec's resize: the box is scaled to the crop size (or the resize size).
            outW = final.CropWidth > 0 ? final.CropWidth : final.Resize == ResizeMode.Exact ? final.ResizeWidth : width;
            outH = final.CropHeight > 0 ? final.CropHeight : final.Resize == ResizeMode.Exact ? final.ResizeHeight : height;
            var cy = box.Height / outH;
            var cx = box.Width / outW;
            return (outW, outH, Scaling(cy, cx, box.Top + (0.5 * cy) - 0.5, box.Left + (0.5 * cx) - 0.5));
        }

        double top = 0, left = 0;
        var (rw, rh) = final.Resize switch
        {
            ResizeMode.ShorterSide => Resampler.ShorterSideSize(width, height, final.ResizeHeight),
            ResizeMode.Exact or ResizeMode.Fit => (final.ResizeWidth, final.ResizeHeight),
            ResizeMode.TextLine => ImageTransforms.TextLineSize(width, height, final.ResizeHeight, final.ResizeWidth),
            _ => (width, height),
        };
        outW = rw;
        outH = rh;
        if (final.CropHeight > 0)
        {
            top = Math.Round((rh - final.CropHeight) / 2.0, MidpointRounding.ToEven);
            left = Math.Round((rw - final.CropWidth) / 2.0, MidpointRounding.ToEven);
            outW = final.CropWidth;
            outH = final.CropHeight;
        }

        // final (r, c) → resized (r + top, c + left) → source ((r + top + 0.5)·sy − 0.5, …).
        var sy = (double)height / rh;
        var sx = (double)width / rw;
        return (outW, outH, Scaling(sy, sx, (top * sy) + (0.5 * sy) - 0.5, (left * sx) + (0.5 * sx) - 0.5));
    }

    private static double[] Scaling(double sy, double sx, double offsetRow, double offsetCol) =>
        [sy, 0, offsetRow, 0, sx, offsetCol, 0, 0, 1];

    private static (double, double, double, double) RandomCrop(ref SampleRandom r, int width, int height, (double Min, double Max) scale)
    {
        var area = (double)width * height;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * r.Uniform(scale.Min, scale.Max);
            var ratio = Math.Exp(r.Uniform(Math.Log(3.0 / 4), Math.Log(4.0 / 3)));
            var w = Math.Round(Math.Sqrt(target * ratio));
            var h = Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                var top = r.NextInt((int)(height - h) + 1);
                var left = r.NextInt((int)(width - w) + 1);
                return (top, left, h, w);
            }
        }

        // torchvision's fallback: a central crop with the ratio clamped to [3/4, 4/3].
        var ar = (double)width / height;
        double cw = width, ch = height;
        if (ar < 3.0 / 4)
        {
            ch = Math.Round(cw / (3.0 / 4));
        }
        else if (ar > 4.0 / 3)
        {
            cw = Math.Round(ch * (4.0 / 3));
        }

        return ((height - ch) / 2, (width - cw) / 2, ch, cw);
    }
}

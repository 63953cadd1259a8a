using System.Buffers;
using static OnnxCnn.Preprocess.Internal.LibPng.LibPngNative;

namespace OnnxCnn.Preprocess.Internal.LibPng;

/// <summary>
/// PNG → <see cref="RgbImage"/> through libpng's simplified API. Every PNG colour type and bit
/// depth comes out as 8-bit RGB; an alpha channel (or a tRNS chunk) is composited onto white.
/// </summary>
/// <remarks>
/// <para>Alpha: libpng would composite in linear light when asked for RGB from an image with
/// alpha; PIL (the reference) composites in sRGB values. So images with alpha are read as
/// straight RGBA and composited here with PIL's <c>alpha_composite</c> arithmetic
/// (<see cref="PixelConversions.CompositeOnWhite"/>). PIL's own <c>convert("RGB")</c> would
/// drop alpha instead; compositing on white is the intended difference.</para>
/// <para>16-bit: samples are taken as sRGB-encoded (<c>PNG_IMAGE_FLAG_16BIT_sRGB</c>), the way
/// PIL treats them, not as linear light (libpng's default) and reduced to 8 bits by libpng's
/// rounding (PIL keeps the high byte: ±1).</para>
/// <para>libpng honours gAMA/sRGB chunks (PIL ignores them), so a file with an unusual gAMA can
/// differ from PIL. libpng warnings (e.g. a bad ancillary chunk CRC) are not errors.</para>
/// </remarks>
internal static unsafe class PngDecoder
{
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> png, string name)
    {
        using var handle = PngImageHandle.Create();
        fixed (byte* src = png)
        {
            Begin(handle, src, png.Length, name);
        }

        return new ImageInfo(ImageFormat.Png, checked((int)handle.Image->Width), checked((int)handle.Image->Height), 1);
    }

    public static RgbImage Decode(ReadOnlySpan<byte> png, string name)
    {
        using var handle = PngImageHandle.Create();
        var image = handle.Image;

        // libpng reads from `png` in both calls: it stays pinned throughout.
        fixed (byte* src = png)
        {
            Begin(handle, src, png.Length, name);
            var width = image->Width;
            var height = image->Height;
            var hasAlpha = (image->Format & PNG_FORMAT_FLAG_ALPHA) != 0;
            if ((ulong)width * height > ImageDecoder.MaxPixels)
            {
                throw new InvalidDataException($"PNG file '{name}' is {width}×{height} pixels, more than the {ImageDecoder.MaxPixels} an image may have.");
            }

            image->Format = hasAlpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
            image->Flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
            var result = RgbImage.Create((int)width, (int)height);
            try
            {
                if (hasAlpha)
                {
                    var length = (int)(width * height * 4);
                    var rgba = ArrayPool<byte>.Shared.Rent(length);
                    try
                    {
                        fixed (byte* dst = rgba)
                        {
                            Finish(handle, dst, (int)width * 4, name);
                        }

                        PixelConversions.CompositeOnWhite(rgba.AsSpan(0, length), result.Pixels);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(rgba);
                    }
                }
                else
                {
                    fixed (byte* dst = result.Pixels)
                    {
                        Finish(handle, dst, result.Stride, name);
                    }
                }

                return result;
            }
            catch
            {
                result.Dispose();
                throw;
            }
        }
    }

    private static void Begin(PngImageHandle handle, byte* src, int length, string name)
    {
        if (ImageBeginReadFromMemory(handle.Image, src, (nuint)length) == 0)
        {
            throw Failed(handle, name);
        }
    }

    private static void Finish(PngImageHandle handle, byte* dst, int rowStride, string name)
    {
        // No background: the output has alpha whenever the input does, so libpng never composes.
        if (ImageFinishRead(handle.Image, null, dst, rowStride, null) == 0)
        {
            throw Failed(handle, name);
        }
    }

    private static InvalidDataException Failed(PngImageHandle handle, string name) =>
        new($"PNG file '{name}' cannot be decoded: {handle.Message()}.");
}

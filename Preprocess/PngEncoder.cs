using OnnxCnn.Preprocess.Internal.LibPng;

namespace OnnxCnn.Preprocess;

/// <summary>PNG encoding through libpng's simplified write API (8-bit RGB).</summary>
public static unsafe class PngEncoder
{
    /// <summary>The image as PNG bytes.</summary>
    public static byte[] Encode(RgbImage image)
    {
        var png = new LibPngNative.PngImage
        {
            Version = LibPngNative.PNG_IMAGE_VERSION,
            Width = (uint)image.Width,
            Height = (uint)image.Height,
            Format = LibPngNative.PNG_FORMAT_RGB,
        };
        fixed (byte* pixels = image.Pixels)
        {
            nuint size = 0;
            // First call sizes the output, second writes it.
            if (LibPngNative.ImageWriteToMemory(&png, null, &size, 0, pixels, image.Stride, null) == 0 || size == 0)
            {
                throw Failure(&png);
            }

            var output = new byte[size];
            fixed (byte* o = output)
            {
                if (LibPngNative.ImageWriteToMemory(&png, o, &size, 0, pixels, image.Stride, null) == 0)
                {
                    throw Failure(&png);
                }
            }

            return size == (nuint)output.Length ? output : output[..(int)size];
        }
    }

    /// <summary>Writes a PNG file atomically (temporary file, then rename): a failure leaves nothing behind.</summary>
    public static void Save(RgbImage image, string path)
    {
        var bytes = Encode(image);
        var temp = path + ".tmp";
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static InvalidOperationException Failure(LibPngNative.PngImage* png)
    {
        var message = new string((sbyte*)png->Message);
        LibPngNative.ImageFree(png);
        return new InvalidOperationException($"libpng could not encode the image: {message}");
    }
}

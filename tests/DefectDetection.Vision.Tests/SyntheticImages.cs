using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Testing;

/// <summary>Small generated images the learner tests share.</summary>
public static class SyntheticImages
{
    /// <summary>
    /// A fixed 96x80 gray pattern (gradient, waves, checks) with per-image noise, shifted by (<paramref name="dx"/>,
    /// <paramref name="dy"/>): aligned normal images for the variation model.
    /// </summary>
    public static Image Pattern(int seed, int dx, int dy, Action<Image>? defect = null)
    {
        const int w = 96, h = 80;
        Random rng = new(seed);
        Image image = Image.Create(w, h, PixelFormat.Gray8);
        for (int y = 0; y < h; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < w; x++)
            {
                int sx = x - dx, sy = y - dy;
                double v = 60 + sx + (40 * Math.Sin(sy / 6.0)) + (((sx / 16) + (sy / 16)) % 2 == 0 ? 30 : 0);
                row[x] = (byte)Math.Clamp(v + (rng.NextDouble() * 6) - 3, 0, 255);
            }
        }

        defect?.Invoke(image);
        return image;
    }

    /// <summary>Sets a square of a gray image to <paramref name="value"/>.</summary>
    public static void Square(Image image, int x0, int y0, int size, byte value)
    {
        for (int y = y0; y < y0 + size; y++)
        {
            image.GetRow(y).Slice(x0, size).Fill(value);
        }
    }

    /// <summary>A smooth random RGB texture of <paramref name="size"/> pixels a side (the same statistics in every image).</summary>
    public static Image Texture(int seed, int size = 160, Action<Image>? defect = null)
    {
        Random rng = new(seed);
        Image image = Image.Create(size, size, PixelFormat.Rgb24);
        double px = rng.NextDouble() * 6, py = rng.NextDouble() * 6;
        for (int y = 0; y < size; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < size; x++)
            {
                double v = 128 + (40 * Math.Sin((x / 5.0) + px) * Math.Cos((y / 7.0) + py)) + (rng.NextDouble() * 10);
                row[3 * x] = (byte)v;
                row[(3 * x) + 1] = (byte)(v * 0.8);
                row[(3 * x) + 2] = (byte)(v * 0.6);
            }
        }

        defect?.Invoke(image);
        return image;
    }

    /// <summary>Paints a square of an RGB image a colour no texture has (a drawn-on defect).</summary>
    public static void Paint(Image image, int x0, int y0, int size)
    {
        for (int y = y0; y < y0 + size; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = x0; x < x0 + size; x++)
            {
                row[3 * x] = 20;
                row[(3 * x) + 1] = 200;
                row[(3 * x) + 2] = 240;
            }
        }
    }

    /// <summary>The forms <see cref="SaveMixed"/> writes an image in, one per index modulo their count.</summary>
    public static readonly string[] MixedForms = ["rgb.png", "gray-smaller.png", "rgba-larger.png", "gray.jpg", "exif-rotated.jpg"];

    /// <summary>
    /// Writes <paramref name="image"/> (RGB) as file <paramref name="stem"/> in form <paramref name="form"/> modulo
    /// <see cref="MixedForms"/>: an RGB PNG; a gray PNG at 3/4 of the size; an RGBA PNG at 5/4 of the width; a gray
    /// JPEG; or an RGB JPEG whose pixels are stored turned a quarter to the left with the EXIF orientation 6 that
    /// turns them upright again. A set of such files mixes sizes, gray and colour, PNG and JPEG and EXIF-rotated photos.
    /// </summary>
    /// <returns>The file written (the extension follows the form).</returns>
    public static string SaveMixed(Image image, string stem, int form)
    {
        int w = image.Width, h = image.Height;
        switch (form % MixedForms.Length)
        {
            case 0:
                ImageCodecs.Save(image, stem + ".png");
                return stem + ".png";
            case 1:
            {
                using Image smaller = ImageResizer.Resize(image, w * 3 / 4, h * 3 / 4);
                using Image gray = ColorConversion.Convert(smaller, PixelFormat.Gray8);
                ImageCodecs.Save(gray, stem + ".png");
                return stem + ".png";
            }

            case 2:
            {
                using Image wider = ImageResizer.Resize(image, w * 5 / 4, h);
                using Image rgba = ColorConversion.Convert(wider, PixelFormat.Rgba32);
                ImageCodecs.Save(rgba, stem + ".png");
                return stem + ".png";
            }

            case 3:
            {
                using Image gray = ColorConversion.Convert(image, PixelFormat.Gray8);
                File.WriteAllBytes(stem + ".jpg", Jpeg(gray));
                return stem + ".jpg";
            }

            default:
            {
                using Image stored = Orientation.Rotate270(image);
                File.WriteAllBytes(stem + ".jpg", WithExifOrientation(Jpeg(stored), 6));
                return stem + ".jpg";
            }
        }
    }

    /// <summary>A baseline JPEG of a gray or RGB image (fine quantisation, no chroma subsampling).</summary>
    public static byte[] Jpeg(Image image)
    {
        int w = image.Width, h = image.Height;
        if (image.PixelFormat == PixelFormat.Gray8)
        {
            return DefectDetection.Imaging.Tests.Formats.Jpeg.MiniJpegEncoder.Encode(w, h, [new(1, 1, 1, image.Pixels.ToArray(), w, h)], adobeTransform: null);
        }

        byte[] yy = new byte[w * h], cb = new byte[w * h], cr = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<byte> row = image.GetRow(y);
            for (int x = 0; x < w; x++)
            {
                double r = row[(x * image.Channels)], g = row[(x * image.Channels) + 1], b = row[(x * image.Channels) + 2];
                int i = (y * w) + x;
                yy[i] = (byte)Math.Clamp(Math.Round((0.299 * r) + (0.587 * g) + (0.114 * b)), 0, 255);
                cb[i] = (byte)Math.Clamp(Math.Round(128 - (0.168736 * r) - (0.331264 * g) + (0.5 * b)), 0, 255);
                cr[i] = (byte)Math.Clamp(Math.Round(128 + (0.5 * r) - (0.418688 * g) - (0.081312 * b)), 0, 255);
            }
        }

        return DefectDetection.Imaging.Tests.Formats.Jpeg.MiniJpegEncoder.Encode(w, h, [new(1, 1, 1, yy, w, h), new(2, 1, 1, cb, w, h), new(3, 1, 1, cr, w, h)], adobeTransform: null);
    }

    /// <summary>The JPEG with an APP1 EXIF segment holding the orientation tag (little-endian TIFF).</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        byte[] tiff = [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        byte[] segment = [0xFF, 0xE1, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }
}

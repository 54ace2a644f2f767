using DefectDetection.Imaging;

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
}

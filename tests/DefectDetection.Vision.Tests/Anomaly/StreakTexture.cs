using DefectDetection.Imaging;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>How one row of a <see cref="StreakTexture"/> looks: grey level, streak amplitude and streak width in pixels.</summary>
internal readonly record struct StreakStyle(double Base, double Amplitude, int Width);

/// <summary>Tile-like grey textures: vertical streaks of random strength (one strength per column) over noise.</summary>
internal static class StreakTexture
{
    /// <summary>A w x h Gray8 image; each row uses the style <paramref name="styleOfRow"/> gives it.</summary>
    public static Image Create(int seed, int w, int h, Func<int, StreakStyle> styleOfRow)
    {
        var rng = new Random(seed);
        double[] column = Enumerable.Range(0, w).Select(_ => rng.NextDouble()).ToArray();
        var image = Image.Create(w, h, PixelFormat.Gray8);
        for (int y = 0; y < h; y++)
        {
            Span<byte> row = image.GetRow(y);
            StreakStyle s = styleOfRow(y);
            for (int x = 0; x < w; x++)
            {
                double v = s.Base + (s.Amplitude * column[x / s.Width * s.Width]) + (6 * rng.NextDouble());
                row[x] = (byte)Math.Clamp(v, 0, 255);
            }
        }

        return image;
    }
}

using DefectDetection.Imaging;

namespace DefectDetection.Vision.Anomaly;

/// <summary>The kinds of defect <see cref="SyntheticDefects"/> draws.</summary>
internal enum SyntheticDefectKind
{
    /// <summary>A rectangle of the image itself, moved elsewhere with its brightness changed (CutPaste).</summary>
    Patch,

    /// <summary>An ellipse brighter or darker than its surroundings (a stain, a dent, a blob of material).</summary>
    Blob,

    /// <summary>A thin polyline, dark or bright (a scratch, a crack, a hair).</summary>
    Scratch,
}

/// <summary>
/// Defects drawn onto normal images, to compare configurations of an anomaly model when no real anomaly is labelled:
/// held-out normal images should score below their copies with a synthetic defect, and the anomaly map's peak should
/// fall on the defect. Sizes are relative to the image's shorter side (1.5% to 6% for the defect's radius), so that a
/// configuration that blurs small defects away loses. Deterministic in the seed.
/// </summary>
internal static class SyntheticDefects
{
    /// <summary>A copy of <paramref name="normal"/> with one defect of <paramref name="kind"/>, and its mask (255 on the defect).</summary>
    public static (Image Image, byte[] Mask) Draw(ImageView normal, SyntheticDefectKind kind, int seed)
    {
        Image image = normal.ToImage();
        int w = image.Width, h = image.Height, channels = image.PixelFormat.ChannelCount();
        byte[] mask = new byte[w * h];
        var rng = new Random(seed);
        double side = Math.Min(w, h);
        double radius = Math.Max(2, side * (0.015 + (0.045 * rng.NextDouble())));
        switch (kind)
        {
            case SyntheticDefectKind.Patch:
                Patch(image, mask, rng, radius, channels);
                break;
            case SyntheticDefectKind.Blob:
                Blob(image, mask, rng, radius, channels);
                break;
            default:
                Scratch(image, mask, rng, radius, channels);
                break;
        }

        return (image, mask);
    }

    private static void Patch(Image image, byte[] mask, Random rng, double radius, int channels)
    {
        int w = image.Width, h = image.Height;
        int pw = Math.Clamp((int)(radius * (1.5 + rng.NextDouble())), 2, w - 1), ph = Math.Clamp((int)(radius * (1 + rng.NextDouble())), 2, h - 1);
        int sx = rng.Next(w - pw + 1), sy = rng.Next(h - ph + 1);
        int dx = rng.Next(w - pw + 1), dy = rng.Next(h - ph + 1);
        double gain = rng.Next(2) == 0 ? 0.55 + (0.25 * rng.NextDouble()) : 1.3 + (0.4 * rng.NextDouble());
        bool transpose = rng.Next(2) == 0 && pw <= h && ph <= w && dx + ph <= w && dy + pw <= h;
        byte[] copy = new byte[pw * ph * channels];
        for (int y = 0; y < ph; y++)
        {
            image.GetRow(sy + y).Slice(sx * channels, pw * channels).CopyTo(copy.AsSpan(y * pw * channels));
        }

        for (int y = 0; y < ph; y++)
        {
            for (int x = 0; x < pw; x++)
            {
                (int tx, int ty) = transpose ? (dx + y, dy + x) : (dx + x, dy + y);
                Span<byte> px = image.GetRow(ty).Slice(tx * channels, channels);
                for (int c = 0; c < channels; c++)
                {
                    px[c] = Clamp(copy[(((y * pw) + x) * channels) + c] * gain);
                }

                mask[(ty * w) + tx] = 255;
            }
        }
    }

    private static void Blob(Image image, byte[] mask, Random rng, double radius, int channels)
    {
        int w = image.Width, h = image.Height;
        double rx = radius, ry = radius * (0.5 + (0.5 * rng.NextDouble())), angle = rng.NextDouble() * Math.PI;
        double cx = rx + (rng.NextDouble() * Math.Max(1, w - (2 * rx))), cy = rx + (rng.NextDouble() * Math.Max(1, h - (2 * rx)));
        double delta = (rng.Next(2) == 0 ? -1 : 1) * (40 + (40 * rng.NextDouble()));
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        for (int y = Math.Max(0, (int)(cy - rx)); y <= Math.Min(h - 1, (int)(cy + rx)); y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = Math.Max(0, (int)(cx - rx)); x <= Math.Min(w - 1, (int)(cx + rx)); x++)
            {
                double u = (((x - cx) * cos) + ((y - cy) * sin)) / rx, v = ((-(x - cx) * sin) + ((y - cy) * cos)) / ry;
                double d = (u * u) + (v * v);
                if (d > 1)
                {
                    continue;
                }

                // Full strength inside, fading over the outer fifth of the radius.
                double strength = Math.Min(1, (1 - Math.Sqrt(d)) * 5);
                for (int c = 0; c < Math.Min(channels, 3); c++) // alpha stays
                {
                    row[(x * channels) + c] = Clamp(row[(x * channels) + c] + (delta * strength));
                }

                mask[(y * w) + x] = 255;
            }
        }
    }

    private static void Scratch(Image image, byte[] mask, Random rng, double radius, int channels)
    {
        int w = image.Width, h = image.Height;
        double half = Math.Max(0.75, radius / 8);
        byte value = (byte)(rng.Next(2) == 0 ? 20 + rng.Next(30) : 205 + rng.Next(40));
        double x0 = rng.NextDouble() * w, y0 = rng.NextDouble() * h, heading = rng.NextDouble() * 2 * Math.PI;
        int segments = 2 + rng.Next(2);
        for (int s = 0; s < segments; s++)
        {
            heading += (rng.NextDouble() - 0.5) * 1.2;
            double length = radius * (1.5 + (2 * rng.NextDouble()));
            double x1 = Math.Clamp(x0 + (Math.Cos(heading) * length), 0, w - 1), y1 = Math.Clamp(y0 + (Math.Sin(heading) * length), 0, h - 1);
            int left = Math.Max(0, (int)(Math.Min(x0, x1) - half - 1)), right = Math.Min(w - 1, (int)(Math.Max(x0, x1) + half + 1));
            int top = Math.Max(0, (int)(Math.Min(y0, y1) - half - 1)), bottom = Math.Min(h - 1, (int)(Math.Max(y0, y1) + half + 1));
            for (int y = top; y <= bottom; y++)
            {
                Span<byte> row = image.GetRow(y);
                for (int x = left; x <= right; x++)
                {
                    if (SegmentDistance(x, y, x0, y0, x1, y1) <= half)
                    {
                        row.Slice(x * channels, Math.Min(channels, 3)).Fill(value); // alpha stays
                        mask[(y * w) + x] = 255;
                    }
                }
            }

            (x0, y0) = (x1, y1);
        }
    }

    private static double SegmentDistance(double px, double py, double x0, double y0, double x1, double y1)
    {
        double dx = x1 - x0, dy = y1 - y0, length2 = (dx * dx) + (dy * dy);
        double t = length2 == 0 ? 0 : Math.Clamp((((px - x0) * dx) + ((py - y0) * dy)) / length2, 0, 1);
        double ex = px - (x0 + (t * dx)), ey = py - (y0 + (t * dy));
        return Math.Sqrt((ex * ex) + (ey * ey));
    }

    private static byte Clamp(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}

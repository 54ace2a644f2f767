using DefectDetection.Imaging;

namespace DefectDetection.Synthetic;

/// <summary>An RGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B);

/// <summary>Anti-aliased drawing of discs, squares and capsules on an Rgb24 image, for the synthetic generators.</summary>
internal sealed class Canvas(Image image)
{
    private readonly Image _image = image;

    public void Fill(Rgb c)
    {
        Span<byte> px = _image.Pixels;
        for (int i = 0; i < px.Length; i += 3)
        {
            px[i] = c.R;
            px[i + 1] = c.G;
            px[i + 2] = c.B;
        }
    }

    public void Disc(double cx, double cy, double r, Rgb c) =>
        Shape(cx - r, cy - r, cx + r, cy + r, c, (x, y) => Math.Sqrt(((x - cx) * (x - cx)) + ((y - cy) * (y - cy))) - r);

    public void Square(double cx, double cy, double half, double angle, Rgb c)
    {
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        double ext = half * 1.42;
        Shape(cx - ext, cy - ext, cx + ext, cy + ext, c, (x, y) =>
        {
            double dx = x - cx, dy = y - cy;
            double u = Math.Abs((cos * dx) + (sin * dy)), v = Math.Abs((-sin * dx) + (cos * dy));
            return Math.Max(u, v) - half;
        });
    }

    public void Capsule(double x0, double y0, double x1, double y1, double half, Rgb c)
    {
        double vx = x1 - x0, vy = y1 - y0, len2 = (vx * vx) + (vy * vy);
        Shape(Math.Min(x0, x1) - half, Math.Min(y0, y1) - half, Math.Max(x0, x1) + half, Math.Max(y0, y1) + half, c, (x, y) =>
        {
            double t = len2 == 0 ? 0 : Math.Clamp((((x - x0) * vx) + ((y - y0) * vy)) / len2, 0, 1);
            double dx = x - (x0 + (t * vx)), dy = y - (y0 + (t * vy));
            return Math.Sqrt((dx * dx) + (dy * dy)) - half;
        });
    }

    // Paints every pixel of the bounding box whose centre's signed distance to the shape is below 0.5, with coverage
    // 0.5 - distance (a one-pixel anti-aliased edge).
    private void Shape(double x0, double y0, double x1, double y1, Rgb c, Func<double, double, double> signedDistance)
    {
        int ix0 = Math.Max(0, (int)Math.Floor(x0) - 1), iy0 = Math.Max(0, (int)Math.Floor(y0) - 1);
        int ix1 = Math.Min(_image.Width - 1, (int)Math.Ceiling(x1) + 1), iy1 = Math.Min(_image.Height - 1, (int)Math.Ceiling(y1) + 1);
        for (int y = iy0; y <= iy1; y++)
        {
            Span<byte> row = _image.GetRow(y);
            for (int x = ix0; x <= ix1; x++)
            {
                double d = signedDistance(x + 0.5, y + 0.5);
                if (d >= 0.5)
                {
                    continue;
                }

                double a = Math.Min(1, 0.5 - d);
                int i = x * 3;
                row[i] = Blend(row[i], c.R, a);
                row[i + 1] = Blend(row[i + 1], c.G, a);
                row[i + 2] = Blend(row[i + 2], c.B, a);
            }
        }
    }

    private static byte Blend(byte dst, byte src, double a) => (byte)Math.Round(dst + ((src - dst) * a));

    /// <summary>Applies a diagonal lighting gradient and Gaussian sensor noise, deterministically per row.</summary>
    public void FinishLightingAndNoise(double sigma, double lighting, int seed)
    {
        if (sigma <= 0 && lighting <= 0)
        {
            return;
        }

        int w = _image.Width, h = _image.Height;
        double cx = w * 0.3, cy = h * 0.25, maxD = Math.Sqrt(((double)w * w) + ((double)h * h));
        Parallel.For(0, h, y =>
        {
            Span<byte> row = _image.GetRow(y);
            ulong state = SplitMix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)y + 1);
            for (int x = 0; x < w; x++)
            {
                double dist = Math.Sqrt(((x - cx) * (x - cx)) + ((y - cy) * (y - cy))) / maxD;
                double gain = 1 - (lighting * dist);
                for (int k = 0; k < 3; k++)
                {
                    // Irwin-Hall: the sum of four uniforms, centred and scaled to unit variance.
                    double n = 0;
                    for (int u = 0; u < 4; u++)
                    {
                        state = SplitMix(state);
                        n += (state >> 11) * (1.0 / (1UL << 53));
                    }

                    n = (n - 2) * 1.7320508075688772;
                    int i = (x * 3) + k;
                    row[i] = (byte)Math.Clamp(Math.Round((row[i] * gain) + (n * sigma)), 0, 255);
                }
            }
        });
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

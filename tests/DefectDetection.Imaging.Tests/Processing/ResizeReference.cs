using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

/// <summary>
/// Plain, direct-formula references (one output pixel at a time, in double precision), written independently of
/// the production weight tables.
/// </summary>
internal static class ResizeReference
{
    /// <summary>Weights of source indices for output index o along one axis.</summary>
    public static List<(int Index, double Weight)> AxisWeights(int inSize, int outSize, int o, ResizeMode mode)
    {
        var list = new List<(int, double)>();
        double scale = (double)inSize / outSize;
        if (inSize == outSize)
        {
            list.Add((o, 1));
            return list;
        }

        if (mode == ResizeMode.Area && scale > 1)
        {
            double a = o * scale, b = (o + 1) * scale;
            for (int i = 0; i < inSize; i++)
            {
                double cover = Math.Min(b, i + 1) - Math.Max(a, i);
                if (cover > 0)
                {
                    list.Add((i, cover / scale));
                }
            }

            return list;
        }

        int x0;
        double f;
        if (mode == ResizeMode.Area)
        {
            x0 = (int)Math.Floor((double)o * inSize / outSize); // exact rational floor
            f = (o + 1) - ((x0 + 1) * (double)outSize / inSize);
            f = f <= 0 ? 0 : f - Math.Floor(f);
        }
        else
        {
            double s = Math.Max(0, ((o + 0.5) * scale) - 0.5);
            x0 = (int)Math.Floor(s);
            f = s - x0;
        }

        if (x0 >= inSize - 1)
        {
            list.Add((inSize - 1, 1));
        }
        else
        {
            list.Add((x0, 1 - f));
            list.Add((x0 + 1, f));
        }

        return list;
    }

    public static double[] ResizeExact(ReadOnlySpan<byte> src, int w, int h, int ch, int ow, int oh, ResizeMode mode)
    {
        var result = new double[ow * oh * ch];
        for (int y = 0; y < oh; y++)
        {
            var wy = AxisWeights(h, oh, y, mode);
            for (int x = 0; x < ow; x++)
            {
                var wx = AxisWeights(w, ow, x, mode);
                for (int c = 0; c < ch; c++)
                {
                    double acc = 0;
                    foreach (var (iy, vy) in wy)
                    {
                        foreach (var (ix, vx) in wx)
                        {
                            acc += vy * vx * src[(((iy * w) + ix) * ch) + c];
                        }
                    }

                    result[(((y * ow) + x) * ch) + c] = acc;
                }
            }
        }

        return result;
    }

    public static double[] ResizeExact(ReadOnlySpan<float> src, int w, int h, int ow, int oh, ResizeMode mode)
    {
        var result = new double[ow * oh];
        for (int y = 0; y < oh; y++)
        {
            var wy = AxisWeights(h, oh, y, mode);
            for (int x = 0; x < ow; x++)
            {
                double acc = 0;
                foreach (var (iy, vy) in AxisWeights(h, oh, y, mode))
                {
                    foreach (var (ix, vx) in AxisWeights(w, ow, x, mode))
                    {
                        acc += vy * vx * src[(iy * w) + ix];
                    }
                }

                result[(y * ow) + x] = acc;
            }
        }

        return result;
    }

    public static Image RandomImage(int w, int h, PixelFormat format, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[w * h * format.ChannelCount()];
        rng.NextBytes(bytes);
        return Image.FromPixels(w, h, format, bytes);
    }
}

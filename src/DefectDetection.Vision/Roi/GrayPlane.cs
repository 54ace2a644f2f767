using System.Numerics.Tensors;
using DefectDetection.Imaging;

namespace DefectDetection.Vision.Roi;

/// <summary>A single-channel float image with integral images of values and squares, for correlation searches.</summary>
internal sealed class GrayPlane
{
    private double[]? _sum;
    private double[]? _sumSq;

    public GrayPlane(int width, int height, float[] pixels)
    {
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public float[] Pixels { get; }

    public ReadOnlySpan<float> Row(int y) => Pixels.AsSpan(y * Width, Width);

    /// <summary>Luma (BT.601) of an image view as floats in [0, 255].</summary>
    public static GrayPlane FromView(ImageView view)
    {
        // TODO(integrate): use Processing's colour conversion once merged.
        int w = view.Width, h = view.Height, ch = view.Channels;
        float[] px = new float[w * h];
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<byte> row = view.GetRow(y);
            Span<float> dst = px.AsSpan(y * w, w);
            if (ch == 1)
            {
                for (int x = 0; x < w; x++)
                {
                    dst[x] = row[x];
                }
            }
            else
            {
                for (int x = 0, i = 0; x < w; x++, i += ch)
                {
                    dst[x] = (0.299f * row[i]) + (0.587f * row[i + 1]) + (0.114f * row[i + 2]);
                }
            }
        }

        return new GrayPlane(w, h, px);
    }

    /// <summary>Half-size plane by 2x2 averaging (odd last row/column dropped).</summary>
    public GrayPlane Half()
    {
        int w = Width / 2, h = Height / 2;
        float[] px = new float[w * h];
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<float> a = Row(2 * y), b = Row((2 * y) + 1);
            Span<float> dst = px.AsSpan(y * w, w);
            for (int x = 0; x < w; x++)
            {
                dst[x] = 0.25f * (a[2 * x] + a[(2 * x) + 1] + b[2 * x] + b[(2 * x) + 1]);
            }
        }

        return new GrayPlane(w, h, px);
    }

    /// <summary>Sum and sum of squares over the window at (x, y) of size w x h, from integral images.</summary>
    public (double Sum, double SumSq) WindowStats(int x, int y, int w, int h)
    {
        int stride = Width + 1;
        int a = (y * stride) + x, b = a + w, c = ((y + h) * stride) + x, d = c + w;
        return (_sum![d] - _sum[b] - _sum[c] + _sum[a], _sumSq![d] - _sumSq[b] - _sumSq[c] + _sumSq[a]);
    }

    /// <summary>Zero-mean normalised cross-correlation of the template at (x, y); 0 for a flat window.</summary>
    public float Ncc(Template t, int x, int y)
    {
        double dot = 0;
        for (int ty = 0; ty < t.Height; ty++)
        {
            dot += TensorPrimitives.Dot(Pixels.AsSpan(((y + ty) * Width) + x, t.Width), t.Row(ty));
        }

        double sum = 0, sumSq = 0;
        if (_sum is not null)
        {
            (sum, sumSq) = WindowStats(x, y, t.Width, t.Height);
        }
        else
        {
            for (int ty = 0; ty < t.Height; ty++)
            {
                ReadOnlySpan<float> window = Pixels.AsSpan(((y + ty) * Width) + x, t.Width);
                sum += TensorPrimitives.Sum(window);
                sumSq += TensorPrimitives.SumOfSquares(window);
            }
        }

        double n = t.Width * t.Height;
        double variance = sumSq - (sum * sum / n);
        if (variance <= 1e-6 * n || t.Norm <= 0)
        {
            return 0;
        }

        return (float)(dot / (Math.Sqrt(variance) * t.Norm));
    }

    /// <summary>Builds the integral images so that window statistics cost O(1) (worth it for exhaustive searches).</summary>
    public void EnsureIntegrals()
    {
        if (_sum is not null)
        {
            return;
        }

        int stride = Width + 1;
        double[] sum = new double[stride * (Height + 1)], sq = new double[stride * (Height + 1)];
        for (int y = 0; y < Height; y++)
        {
            ReadOnlySpan<float> row = Row(y);
            double rs = 0, rq = 0;
            int o = ((y + 1) * stride) + 1, p = y * stride + 1;
            for (int x = 0; x < Width; x++)
            {
                rs += row[x];
                rq += (double)row[x] * row[x];
                sum[o + x] = sum[p + x] + rs;
                sq[o + x] = sq[p + x] + rq;
            }
        }

        _sumSq = sq;
        _sum = sum;
    }
}

/// <summary>A zero-mean template for <see cref="GrayPlane.Ncc"/>.</summary>
internal sealed class Template
{
    public Template(GrayPlane plane)
    {
        Width = plane.Width;
        Height = plane.Height;
        float mean = TensorPrimitives.Sum<float>(plane.Pixels) / plane.Pixels.Length;
        Pixels = new float[plane.Pixels.Length];
        TensorPrimitives.Subtract(plane.Pixels, mean, Pixels);
        Norm = Math.Sqrt(TensorPrimitives.Dot<float>(Pixels, Pixels));
    }

    public int Width { get; }

    public int Height { get; }

    public float[] Pixels { get; }

    public double Norm { get; }

    public ReadOnlySpan<float> Row(int y) => Pixels.AsSpan(y * Width, Width);
}

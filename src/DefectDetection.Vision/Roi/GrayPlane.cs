using System.Numerics.Tensors;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Vision.Roi;

/// <summary>
/// A luma image kept both as bytes (for pyramids and integral images) and as floats (for correlation dot products),
/// used by the template matcher.
/// </summary>
internal sealed class GrayPlane : IDisposable
{
    private readonly Image _gray;
    private IntegralImage? _integral;

    /// <summary>Takes ownership of a Gray8 image.</summary>
    public GrayPlane(Image gray)
    {
        _gray = gray;
        Width = gray.Width;
        Height = gray.Height;
        Pixels = new float[Width * Height];
        TensorPrimitives.ConvertChecked<byte, float>(gray.Pixels, Pixels);
    }

    public int Width { get; }

    public int Height { get; }

    public float[] Pixels { get; }

    public ReadOnlySpan<float> Row(int y) => Pixels.AsSpan(y * Width, Width);

    /// <summary>Luma of an image view (BT.601, as <see cref="ColorConversion"/> computes it).</summary>
    public static GrayPlane FromView(ImageView view) =>
        new(view.PixelFormat == PixelFormat.Gray8 ? view.ToImage() : ColorConversion.Convert(view, PixelFormat.Gray8));

    /// <summary>
    /// The next pyramid level: exactly half the scale by 2x2 area averaging (an odd last row or column is dropped,
    /// so that the image and template pyramids keep the same scale at every level).
    /// </summary>
    public GrayPlane Half()
    {
        int w = Math.Max(1, Width / 2), h = Math.Max(1, Height / 2);
        ImageView even = _gray.View(new Rectangle(0, 0, Math.Min(Width, 2 * w), Math.Min(Height, 2 * h)));
        return new(ImageResizer.Resize(even, w, h, ResizeMode.Area));
    }

    /// <summary>Builds the integral images so that window statistics cost O(1) (worth it for exhaustive searches).</summary>
    public void EnsureIntegrals() => _integral ??= IntegralImage.Create(_gray);

    /// <summary>Zero-mean normalised cross-correlation of the template at (x, y); 0 for a flat window.</summary>
    public float Ncc(Template t, int x, int y)
    {
        double dot = 0, sum = 0, sumSq = 0;
        for (int ty = 0; ty < t.Height; ty++)
        {
            dot += TensorPrimitives.Dot(Pixels.AsSpan(((y + ty) * Width) + x, t.Width), t.Row(ty));
        }

        if (_integral is { } ii)
        {
            int stride = ii.Stride;
            int a = (y * stride) + x, b = a + t.Width, c = ((y + t.Height) * stride) + x, d = c + t.Width;
            ReadOnlySpan<long> s = ii.Sums, q = ii.SquaredSums;
            sum = s[d] - s[b] - s[c] + s[a];
            sumSq = q[d] - q[b] - q[c] + q[a];
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

    public void Dispose()
    {
        _integral?.Dispose();
        _gray.Dispose();
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

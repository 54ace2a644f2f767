using System.Numerics.Tensors;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Summed-area tables of a gray image: the sum and the sum of squares of the pixels above and left of each
/// position, so that the sum, mean and variance of any rectangle take four lookups (template matching, local
/// statistics). Stored as (Width + 1) x (Height + 1) exact 64-bit integers, first row and column zero
/// (OpenCV's <c>integral</c> layout). Arrays are pooled: dispose the instance.
/// </summary>
public sealed class IntegralImage : IDisposable
{
    private long[]? _sum;
    private long[]? _squared;

    private IntegralImage(int width, int height)
    {
        Width = width;
        Height = height;
        Stride = width + 1;
        int n = checked(Stride * (height + 1));
        _sum = PixelBufferPool.Rent<long>(n);
        _squared = PixelBufferPool.Rent<long>(n);
    }

    /// <summary>Width of the source image.</summary>
    public int Width { get; }

    /// <summary>Height of the source image.</summary>
    public int Height { get; }

    /// <summary>Values per table row: Width + 1.</summary>
    public int Stride { get; }

    /// <summary>The sum table: entry (x, y) at y x Stride + x is the sum of pixels [0, x) x [0, y).</summary>
    public ReadOnlySpan<long> Sums => (_sum ?? throw new ObjectDisposedException(nameof(IntegralImage))).AsSpan(0, Stride * (Height + 1));

    /// <summary>The squared-sum table, laid out as <see cref="Sums"/>.</summary>
    public ReadOnlySpan<long> SquaredSums => (_squared ?? throw new ObjectDisposedException(nameof(IntegralImage))).AsSpan(0, Stride * (Height + 1));

    /// <summary>Builds both tables for a <see cref="PixelFormat.Gray8"/> image or view.</summary>
    /// <param name="gray">The image; convert colour images with <see cref="ColorConversion.Convert"/> first.</param>
    public static IntegralImage Create(ImageView gray)
    {
        if (gray.PixelFormat != PixelFormat.Gray8)
        {
            throw new ArgumentException($"An integral image needs a Gray8 image, got {gray.PixelFormat}.", nameof(gray));
        }

        int w = gray.Width, h = gray.Height;
        IntegralImage result = new(w, h);
        Span<long> sum = result._sum.AsSpan(0, result.Stride * (h + 1));
        Span<long> sq = result._squared.AsSpan(0, result.Stride * (h + 1));
        sum.Slice(0, w + 1).Clear();
        sq.Slice(0, w + 1).Clear();
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<byte> row = gray.GetRow(y);
            Span<long> s = sum.Slice((y + 1) * (w + 1), w + 1);
            Span<long> q = sq.Slice((y + 1) * (w + 1), w + 1);
            long rs = 0, rq = 0;
            s[0] = 0;
            q[0] = 0;
            for (int x = 0; x < w; x++)
            {
                int v = row[x];
                rs += v;
                rq += v * v;
                s[x + 1] = rs;
                q[x + 1] = rq;
            }

            // Add the row above (vectorised).
            TensorPrimitives.Add(s, sum.Slice(y * (w + 1), w + 1), s);
            TensorPrimitives.Add(q, sq.Slice(y * (w + 1), w + 1), q);
        }

        return result;
    }

    /// <summary>Sum of the pixels in <paramref name="region"/> (which must lie inside the image).</summary>
    public long Sum(Rectangle region) => Box(Sums, region);

    /// <summary>Sum of the squared pixels in <paramref name="region"/>.</summary>
    public long SquaredSum(Rectangle region) => Box(SquaredSums, region);

    /// <summary>Mean of the pixels in a non-empty <paramref name="region"/>.</summary>
    public double Mean(Rectangle region) => Sum(region) / (double)NonEmpty(region).Area;

    /// <summary>Population variance of the pixels in a non-empty <paramref name="region"/>, computed from exact integer sums.</summary>
    public double Variance(Rectangle region)
    {
        long n = NonEmpty(region).Area;
        long s = Sum(region), q = SquaredSum(region);
        // (n q - s^2) / n^2 in exact 128-bit integer arithmetic, then one division.
        Int128 num = ((Int128)n * q) - ((Int128)s * s);
        return (double)num / ((double)n * n);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        PixelBufferPool.Return(Interlocked.Exchange(ref _sum, null));
        PixelBufferPool.Return(Interlocked.Exchange(ref _squared, null));
    }

    private static Rectangle NonEmpty(Rectangle region) => region.IsEmpty
        ? throw new ArgumentOutOfRangeException(nameof(region), $"Region {region} is empty.")
        : region;

    private long Box(ReadOnlySpan<long> table, Rectangle r)
    {
        if (r.X < 0 || r.Y < 0 || r.Width < 0 || r.Height < 0 || r.Right > Width || r.Bottom > Height)
        {
            throw new ArgumentOutOfRangeException(nameof(r), $"Region {r} is outside the {Width}x{Height} image.");
        }

        int a = (r.Y * Stride) + r.X, b = (r.Bottom * Stride) + r.X;
        return table[b + r.Width] - table[b] - table[a + r.Width] + table[a];
    }
}

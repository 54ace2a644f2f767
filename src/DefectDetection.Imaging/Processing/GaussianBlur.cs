using System.Numerics.Tensors;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Separable Gaussian blur of single-channel float maps (anomaly maps, score grids). The kernel is
/// exp(-x^2 / (2 sigma^2)) for |x| &lt;= radius, normalised to sum 1; the default radius is
/// <c>(int)(4 sigma + 0.5)</c>, as SciPy's <c>gaussian_filter</c> (truncate 4) and anomalib use.
/// Each pass is a sum of shifted rows scaled by the taps (vectorised by <see cref="TensorPrimitives"/>).
/// </summary>
public static class GaussianBlur
{
    /// <summary>Blurs <paramref name="source"/> into <paramref name="destination"/> (which may be the same span).</summary>
    /// <param name="source">The map, width x height values, row-major.</param>
    /// <param name="width">Map width.</param>
    /// <param name="height">Map height.</param>
    /// <param name="destination">Receives width x height values.</param>
    /// <param name="sigma">Standard deviation in pixels (positive).</param>
    /// <param name="radius">Kernel half-width; 0 or less picks <c>(int)(4 sigma + 0.5)</c>. Default: automatic.</param>
    /// <param name="border">How values beyond the edges are made (constant = 0). Default: <see cref="BorderMode.Reflect101"/>.</param>
    public static void Apply(ReadOnlySpan<float> source, int width, int height, Span<float> destination, float sigma, int radius = 0,
        BorderMode border = BorderMode.Reflect101)
    {
        if (width <= 0 || height <= 0 || source.Length < (long)width * height || destination.Length < (long)width * height)
        {
            throw new ArgumentException($"Source and destination must hold {width}x{height} values.", nameof(source));
        }

        if (!(sigma > 0) || float.IsInfinity(sigma))
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), $"Sigma must be positive, got {sigma}.");
        }

        Border.Check(border);
        if (radius <= 0)
        {
            radius = Math.Max(1, (int)((4 * sigma) + 0.5f));
        }

        radius = Math.Min(radius, 1 << 16);
        float[] kernel = PixelBufferPool.Rent<float>((2 * radius) + 1);
        float[] temp = PixelBufferPool.Rent<float>(checked(width * height));
        float[] padded = PixelBufferPool.Rent<float>(width + (2 * radius));
        float[] zeros = PixelBufferPool.Rent<float>(width, clear: true);
        try
        {
            Span<float> k = kernel.AsSpan(0, (2 * radius) + 1);
            BuildKernel(sigma, radius, k);

            // Horizontal: pad each row by the border rule, then out = sum_k k[i] * padded[i .. i + width).
            Span<float> pad = padded.AsSpan(0, width + (2 * radius));
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<float> row = source.Slice(y * width, width);
                for (int i = 0; i < pad.Length; i++)
                {
                    int sx = Border.Map(i - radius, width, border);
                    pad[i] = sx < 0 ? 0 : row[sx];
                }

                Span<float> dst = temp.AsSpan(y * width, width);
                TensorPrimitives.Multiply(pad.Slice(0, width), k[0], dst);
                for (int i = 1; i < k.Length; i++)
                {
                    TensorPrimitives.MultiplyAdd(pad.Slice(i, width), k[i], dst, dst);
                }
            }

            // Vertical: out row y = sum_k k[i] * temp row (y + i - radius) by the border rule.
            for (int y = 0; y < height; y++)
            {
                Span<float> dst = destination.Slice(y * width, width);
                for (int i = 0; i < k.Length; i++)
                {
                    int sy = Border.Map(y + i - radius, height, border);
                    ReadOnlySpan<float> src = sy < 0 ? zeros.AsSpan(0, width) : temp.AsSpan(sy * width, width);
                    if (i == 0)
                    {
                        TensorPrimitives.Multiply(src, k[0], dst);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAdd(src, k[i], dst, dst);
                    }
                }
            }
        }
        finally
        {
            PixelBufferPool.Return(kernel);
            PixelBufferPool.Return(temp);
            PixelBufferPool.Return(padded);
            PixelBufferPool.Return(zeros);
        }
    }

    /// <summary>The normalised kernel of 2 radius + 1 taps.</summary>
    internal static void BuildKernel(float sigma, int radius, Span<float> kernel)
    {
        double sum = 0;
        double s2 = 2.0 * sigma * sigma;
        Span<double> k = kernel.Length <= 1024 ? stackalloc double[kernel.Length] : new double[kernel.Length];
        for (int i = -radius; i <= radius; i++)
        {
            k[i + radius] = Math.Exp(-(i * (double)i) / s2);
            sum += k[i + radius];
        }

        for (int i = 0; i < kernel.Length; i++)
        {
            kernel[i] = (float)(k[i] / sum);
        }
    }
}

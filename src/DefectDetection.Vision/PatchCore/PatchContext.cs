using System.Buffers;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Intensity context of each patch, for defects that are large areas of uneven brightness or texture (magnetic tile
/// "uneven"): each of their patches resembles some normal patch, but not at that brightness or texture relative to
/// the rest of the same image. From the grey image stretched like the backbone input to a plane of
/// <see cref="CellPixels"/> pixels a grid cell, per cell (all cell maps smoothed by one more cell, sigma 1):
/// <list type="number">
/// <item>local contrast c = ln(sqrt(T) + 1) - ln(B + 1), T the mean squared high-pass (I minus I smoothed with sigma 1
/// pixel), B the image smoothed with sigma one cell: independent of the exposure gain;</item>
/// <item>anisotropy ln((Gx + 1) / (Gy + 1)), Gx and Gy the mean squared horizontal and vertical pixel differences
/// (streaks, grinding marks);</item>
/// <item>ln(B + 1) minus its median over the cell's column, and over the cell's row;</item>
/// <item>c minus its median over the cell's column, and over the cell's row.</item>
/// </list>
/// The medians make a band that differs from the rest of its own part stand out however bright the part is, along
/// either axis. A Gaussian fitted to the normal images' cells scores each cell by its Mahalanobis distance.
/// </summary>
internal static class PatchContext
{
    /// <summary>Features per cell.</summary>
    public const int Dimension = 6;

    /// <summary>Values of a fitted model (<see cref="Fit"/>): the mean and the inverse covariance.</summary>
    public const int ModelLength = Dimension + (Dimension * Dimension);

    /// <summary>Plane pixels per grid cell (each axis).</summary>
    internal const int CellPixels = 4;

    /// <summary>Writes gw x gh x <see cref="Dimension"/> features (row-major cells) of <paramref name="image"/>.</summary>
    public static void Features(ImageView image, int gw, int gh, Span<float> destination)
    {
        int w = gw * CellPixels, h = gh * CellPixels, n = w * h, cells = gw * gh;
        float[] buffer = ArrayPool<float>.Shared.Rent((5 * n) + (6 * cells));
        try
        {
            Span<float> plane = buffer.AsSpan(0, n), smooth = buffer.AsSpan(n, n), energy = buffer.AsSpan(2 * n, n);
            Span<float> gx = buffer.AsSpan(3 * n, n), gy = buffer.AsSpan(4 * n, n);
            Span<float> b = buffer.AsSpan(5 * n, cells), t = buffer.AsSpan((5 * n) + cells, cells), ax = buffer.AsSpan((5 * n) + (2 * cells), cells);
            Span<float> ay = buffer.AsSpan((5 * n) + (3 * cells), cells), lb = buffer.AsSpan((5 * n) + (4 * cells), cells);
            Span<float> contrast = buffer.AsSpan((5 * n) + (5 * cells), cells);
            Gray(image, w, h, plane);
            GaussianBlur.Apply(plane, w, h, smooth, 1f);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int i = (y * w) + x;
                    float d = plane[i] - smooth[i];
                    energy[i] = d * d;
                    float dx = x + 1 < w ? plane[i + 1] - plane[i] : 0;
                    float dy = y + 1 < h ? plane[i + w] - plane[i] : 0;
                    gx[i] = dx * dx;
                    gy[i] = dy * dy;
                }
            }

            GaussianBlur.Apply(plane, w, h, smooth, CellPixels);
            ImageResizer.Resize(smooth, w, h, b, gw, gh, ResizeMode.Area);
            ImageResizer.Resize(energy, w, h, t, gw, gh, ResizeMode.Area);
            ImageResizer.Resize(gx, w, h, ax, gw, gh, ResizeMode.Area);
            ImageResizer.Resize(gy, w, h, ay, gw, gh, ResizeMode.Area);

            // One more cell of smoothing: large uneven areas are coherent, single cells are noisy.
            GaussianBlur.Apply(t, gw, gh, t, 1f);
            GaussianBlur.Apply(ax, gw, gh, ax, 1f);
            GaussianBlur.Apply(ay, gw, gh, ay, 1f);
            GaussianBlur.Apply(b, gw, gh, b, 1f);
            for (int p = 0; p < cells; p++)
            {
                lb[p] = MathF.Log(b[p] + 1);
                contrast[p] = MathF.Log(MathF.Sqrt(t[p]) + 1) - lb[p];
                destination[p * Dimension] = contrast[p];
                destination[(p * Dimension) + 1] = MathF.Log((ax[p] + 1) / (ay[p] + 1));
            }

            Residuals(lb, gw, gh, destination, 2);
            Residuals(contrast, gw, gh, destination, 4);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes each cell's difference to the median of its column (feature <paramref name="offset"/>) and to the median
    /// of its row (feature <paramref name="offset"/> + 1).
    /// </summary>
    internal static void Residuals(ReadOnlySpan<float> cells, int gw, int gh, Span<float> destination, int offset)
    {
        float[] line = new float[Math.Max(gw, gh)];
        for (int x = 0; x < gw; x++)
        {
            for (int y = 0; y < gh; y++)
            {
                line[y] = cells[(y * gw) + x];
            }

            float median = Median(line.AsSpan(0, gh));
            for (int y = 0; y < gh; y++)
            {
                destination[(((y * gw) + x) * Dimension) + offset] = cells[(y * gw) + x] - median;
            }
        }

        for (int y = 0; y < gh; y++)
        {
            float median = Median(cells.Slice(y * gw, gw));
            for (int x = 0; x < gw; x++)
            {
                destination[(((y * gw) + x) * Dimension) + offset + 1] = cells[(y * gw) + x] - median;
            }
        }
    }

    /// <summary>The image's grey level (channel mean), stretched to w x h with area averaging, into <paramref name="destination"/>.</summary>
    internal static void Gray(ImageView image, int w, int h, Span<float> destination)
    {
        int iw = image.Width, ih = image.Height;
        bool direct = iw == w && ih == h;
        float[]? rented = direct ? null : ArrayPool<float>.Shared.Rent(iw * ih);
        try
        {
            Span<float> gray = direct ? destination[..(w * h)] : rented.AsSpan(0, iw * ih);
            int c = image.Source.Channels;
            int used = Math.Min(3, c);
            for (int y = 0; y < ih; y++)
            {
                ReadOnlySpan<byte> row = image.GetRow(y);
                for (int x = 0; x < iw; x++)
                {
                    int sum = 0;
                    for (int k = 0; k < used; k++)
                    {
                        sum += row[(x * c) + k];
                    }

                    gray[(y * iw) + x] = (float)sum / used;
                }
            }

            if (!direct)
            {
                ImageResizer.Resize(gray, iw, ih, destination, w, h, ResizeMode.Area);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The median (mean of the two middle values for even counts).</summary>
    internal static float Median(ReadOnlySpan<float> values)
    {
        float[] sorted = values.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : 0.5f * (sorted[(n / 2) - 1] + sorted[n / 2]);
    }

    /// <summary>
    /// Fits mean and inverse covariance (a ridge of 1e-3 of the mean variance added to the diagonal) of
    /// <paramref name="features"/> rows (<see cref="Dimension"/> values each). Layout of the result: the mean, then the
    /// row-major inverse covariance (<see cref="ModelLength"/> values).
    /// </summary>
    public static float[] Fit(ReadOnlySpan<float> features)
    {
        const int d = Dimension;
        int rows = features.Length / d;
        double[] mean = new double[d];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < d; k++)
            {
                mean[k] += features[(r * d) + k];
            }
        }

        for (int k = 0; k < d; k++)
        {
            mean[k] /= Math.Max(1, rows);
        }

        double[] cov = new double[d * d];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < d; i++)
            {
                double xi = features[(r * d) + i] - mean[i];
                for (int j = 0; j < d; j++)
                {
                    cov[(i * d) + j] += xi * (features[(r * d) + j] - mean[j]);
                }
            }
        }

        double trace = 0;
        for (int i = 0; i < d * d; i++)
        {
            cov[i] /= Math.Max(1, rows - 1);
        }

        for (int i = 0; i < d; i++)
        {
            trace += cov[(i * d) + i];
        }

        double ridge = Math.Max(1e-9, 1e-3 * trace / d);
        for (int i = 0; i < d; i++)
        {
            cov[(i * d) + i] += ridge;
        }

        double[] inverse = Invert(cov, d);
        float[] model = new float[ModelLength];
        for (int k = 0; k < d; k++)
        {
            model[k] = (float)mean[k];
        }

        for (int i = 0; i < d * d; i++)
        {
            model[d + i] = (float)inverse[i];
        }

        return model;
    }

    /// <summary>Inverse of a symmetric positive definite n x n matrix (Gauss-Jordan with partial pivoting).</summary>
    internal static double[] Invert(double[] matrix, int n)
    {
        double[] a = (double[])matrix.Clone();
        double[] inv = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            inv[(i * n) + i] = 1;
        }

        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(a[(r * n) + c]) > Math.Abs(a[(pivot * n) + c]))
                {
                    pivot = r;
                }
            }

            if (pivot != c)
            {
                for (int k = 0; k < n; k++)
                {
                    (a[(c * n) + k], a[(pivot * n) + k]) = (a[(pivot * n) + k], a[(c * n) + k]);
                    (inv[(c * n) + k], inv[(pivot * n) + k]) = (inv[(pivot * n) + k], inv[(c * n) + k]);
                }
            }

            double diag = a[(c * n) + c];
            for (int k = 0; k < n; k++)
            {
                a[(c * n) + k] /= diag;
                inv[(c * n) + k] /= diag;
            }

            for (int r = 0; r < n; r++)
            {
                double f = a[(r * n) + c];
                if (r == c || f == 0)
                {
                    continue;
                }

                for (int k = 0; k < n; k++)
                {
                    a[(r * n) + k] -= f * a[(c * n) + k];
                    inv[(r * n) + k] -= f * inv[(c * n) + k];
                }
            }
        }

        return inv;
    }

    /// <summary>Mahalanobis distance of each feature row under <paramref name="model"/> (from <see cref="Fit"/>).</summary>
    public static void Score(ReadOnlySpan<float> features, ReadOnlySpan<float> model, Span<float> destination)
    {
        const int d = Dimension;
        int rows = features.Length / d;
        Span<float> x = stackalloc float[d];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < d; k++)
            {
                x[k] = features[(r * d) + k] - model[k];
            }

            float q = 0;
            for (int i = 0; i < d; i++)
            {
                float row = 0;
                for (int j = 0; j < d; j++)
                {
                    row += model[d + (i * d) + j] * x[j];
                }

                q += x[i] * row;
            }

            destination[r] = MathF.Sqrt(Math.Max(0, q));
        }
    }

    /// <summary>Sample standard deviation.</summary>
    internal static double Std(ReadOnlySpan<float> values)
    {
        if (values.Length < 2)
        {
            return 0;
        }

        double mean = 0;
        foreach (float v in values)
        {
            mean += v;
        }

        mean /= values.Length;
        double s = 0;
        foreach (float v in values)
        {
            s += (v - mean) * (v - mean);
        }

        return Math.Sqrt(s / (values.Length - 1));
    }
}

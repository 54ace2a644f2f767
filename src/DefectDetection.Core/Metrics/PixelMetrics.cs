using DefectDetection.Imaging.Processing;
namespace DefectDetection.Metrics;

/// <summary>An anomaly map and its ground-truth mask for pixel-level evaluation.</summary>
public sealed class AnomalyMapSample
{
    /// <summary>Creates a sample.</summary>
    /// <param name="scores">Anomaly score per pixel, row after row (higher = more anomalous).</param>
    /// <param name="mask">Ground truth per pixel: non-zero = defect.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <exception cref="ArgumentException">The sizes do not match or a score is NaN.</exception>
    public AnomalyMapSample(float[] scores, byte[] mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(mask);
        if (width <= 0 || height <= 0 || (long)width * height != scores.Length || scores.Length != mask.Length)
        {
            throw new ArgumentException($"A {width}x{height} map needs {(long)width * height} scores and mask values, got {scores.Length} and {mask.Length}.");
        }

        if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(scores) is int im && float.IsNaN(scores[im]))
        {
            throw new ArgumentException("The anomaly map holds NaN.", nameof(scores));
        }

        Scores = scores;
        Mask = mask;
        Width = width;
        Height = height;
    }

    /// <summary>Anomaly score per pixel.</summary>
    public float[] Scores { get; }

    /// <summary>Ground truth per pixel (non-zero = defect).</summary>
    public byte[] Mask { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }
}

/// <summary>
/// Pixel-level measures of anomaly maps against masks: AUROC and AUPRO (MVTec AD's per-region overlap).
/// Both are computed exactly (sorting every pixel) when <c>bins</c> is 0, or over a histogram of <c>bins</c>
/// equal-width score bins between the global minimum and maximum (fast; ties within a bin count as one threshold,
/// which changes the result by at most the share of pairs sharing a bin).
/// </summary>
public static class PixelMetrics
{
    /// <summary>The default histogram size.</summary>
    public const int DefaultBins = 4096;

    /// <summary>Pixel AUROC over all pixels of all samples.</summary>
    /// <returns>The area in [0, 1]; NaN when no pixel is a defect or every pixel is.</returns>
    /// <exception cref="ArgumentException">No sample, or <paramref name="bins"/> is negative or 1.</exception>
    public static double Auroc(IReadOnlyList<AnomalyMapSample> samples, int bins = DefaultBins)
    {
        CheckArgs(samples, bins);
        long nPos = 0, nNeg = 0;
        foreach (AnomalyMapSample s in samples)
        {
            long pos = s.Mask.Length - s.Mask.AsSpan().Count((byte)0);
            nPos += pos;
            nNeg += s.Mask.Length - pos;
        }

        if (nPos == 0 || nNeg == 0)
        {
            return double.NaN;
        }

        (double[] fpr, double[] tpr) = Curve(samples, bins, static (_, _) => 1.0, 1.0 / nPos, 1.0 / nNeg);
        return Trapezoid(fpr, tpr, 1.0);
    }

    /// <summary>
    /// Area under the per-region-overlap curve up to a false positive rate of <paramref name="maxFpr"/>, divided by
    /// <paramref name="maxFpr"/> (so 1 is perfect). Each 8-connected defect region of each mask weighs the same:
    /// PRO(t) = mean over regions of the share of the region's pixels scoring &gt;= t; FPR(t) = share of defect-free
    /// pixels scoring &gt;= t. The curve is integrated with the trapezoid rule and cut at <paramref name="maxFpr"/> by
    /// linear interpolation.
    /// </summary>
    /// <returns>The normalised area in [0, 1]; NaN when no mask has a defect or no pixel is defect-free.</returns>
    /// <exception cref="ArgumentException">No sample, a bad <paramref name="bins"/>, or <paramref name="maxFpr"/> outside (0, 1].</exception>
    public static double Aupro(IReadOnlyList<AnomalyMapSample> samples, double maxFpr = 0.3, int bins = DefaultBins)
    {
        CheckArgs(samples, bins);
        if (!(maxFpr > 0 && maxFpr <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxFpr), $"maxFpr must be in (0, 1], got {maxFpr}.");
        }

        // Label the regions and weigh each defect pixel 1 / (region size x region count).
        int[][] regionOf = new int[samples.Count][];
        List<int> regionSizes = [];
        long nNeg = 0;
        for (int s = 0; s < samples.Count; s++)
        {
            regionOf[s] = LabelRegions(samples[s], regionSizes);
            nNeg += samples[s].Mask.AsSpan().Count((byte)0);
        }

        if (regionSizes.Count == 0 || nNeg == 0)
        {
            return double.NaN;
        }

        double regionCount = regionSizes.Count;
        (double[] fpr, double[] pro) = Curve(samples, bins, (s, i) => 1.0 / (regionSizes[regionOf[s][i] - 1] * regionCount), 1.0, 1.0 / nNeg);
        return Trapezoid(fpr, pro, maxFpr) / maxFpr;
    }

    private static void CheckArgs(IReadOnlyList<AnomalyMapSample> samples, int bins)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            throw new ArgumentException("No anomaly maps to measure.", nameof(samples));
        }

        if (bins < 0 || bins == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), $"bins must be 0 (exact) or at least 2, got {bins}.");
        }
    }

    /// <summary>
    /// The curve (x = weighted share of negatives at or above t, y = weighted share of positives at or above t) over
    /// thresholds t from high to low, starting at (0, 0). Positive pixel i of sample s weighs posWeight(s, i) x posScale.
    /// </summary>
    private static (double[] X, double[] Y) Curve(IReadOnlyList<AnomalyMapSample> samples, int bins, Func<int, int, double> posWeight, double posScale, double negWeight)
    {
        return bins == 0 ? ExactCurve(samples, posWeight, posScale, negWeight) : BinnedCurve(samples, bins, posWeight, posScale, negWeight);
    }

    private static (double[] X, double[] Y) BinnedCurve(IReadOnlyList<AnomalyMapSample> samples, int bins, Func<int, int, double> posWeight, double posScale, double negWeight)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (AnomalyMapSample s in samples)
        {
            min = Math.Min(min, System.Numerics.Tensors.TensorPrimitives.Min(s.Scores));
            max = Math.Max(max, System.Numerics.Tensors.TensorPrimitives.Max(s.Scores));
        }

        double[] pos = new double[bins], neg = new double[bins];
        double scale = max > min ? (bins - 1) / ((double)max - min) : 0;
        for (int s = 0; s < samples.Count; s++)
        {
            float[] scores = samples[s].Scores;
            byte[] mask = samples[s].Mask;
            for (int i = 0; i < scores.Length; i++)
            {
                int b = Math.Min(bins - 1, (int)((scores[i] - (double)min) * scale));
                if (mask[i] != 0)
                {
                    pos[b] += posWeight(s, i);
                }
                else
                {
                    neg[b]++;
                }
            }
        }

        List<double> x = [0], y = [0];
        double cx = 0, cy = 0;
        for (int b = bins - 1; b >= 0; b--)
        {
            if (pos[b] == 0 && neg[b] == 0)
            {
                continue;
            }

            cx += neg[b] * negWeight;
            cy += pos[b] * posScale;
            x.Add(cx);
            y.Add(cy);
        }

        return (x.ToArray(), y.ToArray());
    }

    private static (double[] X, double[] Y) ExactCurve(IReadOnlyList<AnomalyMapSample> samples, Func<int, int, double> posWeight, double posScale, double negWeight)
    {
        long total = samples.Sum(s => (long)s.Scores.Length);
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"Exact evaluation of {total:N0} pixels is too large; use bins.");
        }

        float[] keys = new float[total];
        double[] weights = new double[total]; // > 0: positive weight; < 0: a negative pixel
        long k = 0;
        for (int s = 0; s < samples.Count; s++)
        {
            float[] scores = samples[s].Scores;
            byte[] mask = samples[s].Mask;
            for (int i = 0; i < scores.Length; i++, k++)
            {
                keys[k] = -scores[i];
                weights[k] = mask[i] != 0 ? posWeight(s, i) * posScale : -1;
            }
        }

        Array.Sort(keys, weights);
        List<double> x = [0], y = [0];
        double cx = 0, cy = 0;
        int j = 0;
        while (j < keys.Length)
        {
            float key = keys[j];
            for (; j < keys.Length && keys[j] == key; j++)
            {
                if (weights[j] < 0)
                {
                    cx += negWeight;
                }
                else
                {
                    cy += weights[j];
                }
            }

            x.Add(cx);
            y.Add(cy);
        }

        return (x.ToArray(), y.ToArray());
    }

    /// <summary>Trapezoid area under y(x) for x from 0 to <paramref name="limit"/> (x ascending), interpolating at the limit.</summary>
    private static double Trapezoid(double[] x, double[] y, double limit)
    {
        double area = 0;
        for (int i = 1; i < x.Length; i++)
        {
            double x0 = x[i - 1], x1 = x[i], y0 = y[i - 1], y1 = y[i];
            if (x0 >= limit)
            {
                break;
            }

            if (x1 > limit)
            {
                y1 = y0 + ((y1 - y0) * (limit - x0) / (x1 - x0));
                x1 = limit;
            }

            area += (x1 - x0) * (y0 + y1) / 2;
        }

        return area;
    }

    /// <summary>8-connected labelling of the mask's defect pixels; labels are 1-based indices into <paramref name="sizes"/>.</summary>
    private static int[] LabelRegions(AnomalyMapSample sample, List<int> sizes)
    {
        int[] label = new int[sample.Mask.Length];
        int offset = sizes.Count;
        foreach (ConnectedComponent c in ConnectedComponents.Label(sample.Mask, sample.Width, sample.Height, label))
        {
            sizes.Add(c.Area);
        }

        // The labeller numbers each map's regions from 1; shift them past the regions of the maps before this one.
        if (offset > 0)
        {
            for (int i = 0; i < label.Length; i++)
            {
                if (label[i] != 0)
                {
                    label[i] += offset;
                }
            }
        }

        return label;
    }
}

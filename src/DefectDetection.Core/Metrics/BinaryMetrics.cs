namespace DefectDetection.Metrics;

/// <summary>How <see cref="BinaryMetrics.SelectThreshold"/> picks a decision threshold.</summary>
public enum ThresholdRule
{
    /// <summary>The threshold with the highest F1 score of the positive label (ties: the lower threshold, for recall).</summary>
    MaxF1,

    /// <summary>The highest threshold whose recall reaches <see cref="ThresholdOptions.TargetRecall"/>.</summary>
    TargetRecall,

    /// <summary>
    /// A threshold that small, noisy sets cannot push to an extreme: the middle (median) of the distinct scores whose F1
    /// is within <see cref="ThresholdOptions.F1Tolerance"/> of the best, then kept between the median score of the
    /// negatives and the median score of the positives (so it never calls more than half the negatives positive, nor
    /// misses more than half the positives). Exact on separable sets (a cut between the classes).
    /// </summary>
    StableF1,
}

/// <summary>Options of threshold selection.</summary>
public sealed class ThresholdOptions
{
    /// <summary>The rule. Default <see cref="ThresholdRule.MaxF1"/>.</summary>
    public ThresholdRule Rule { get; init; } = ThresholdRule.MaxF1;

    /// <summary>The recall to reach with <see cref="ThresholdRule.TargetRecall"/>, in (0, 1]. Default 0.95.</summary>
    public double TargetRecall { get; init; } = 0.95;

    /// <summary>How far below the best F1 a score may be and still count as near-best for <see cref="ThresholdRule.StableF1"/>. Default 0.02.</summary>
    public double F1Tolerance { get; init; } = 0.02;

    /// <summary>
    /// How many negatives each negative sample stands for in the F1 (its false positives count this many times), for
    /// negatives that are a sample of a larger set: with 100 of 666 good images scored, 6.66. Default 1.
    /// </summary>
    public double NegativeWeight { get; init; } = 1;
}

/// <summary>
/// Threshold-free and thresholded measures of a binary scorer: a higher score means "more likely positive" and a
/// sample is predicted positive when <c>score &gt;= threshold</c>.
/// </summary>
public static class BinaryMetrics
{
    /// <summary>
    /// Area under the ROC curve, exact: the trapezoid over distinct thresholds, equal to the Mann-Whitney statistic
    /// (the chance that a random positive scores above a random negative, ties counting one half).
    /// </summary>
    /// <returns>The area in [0, 1]; <see cref="double.NaN"/> when all samples belong to one class.</returns>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or a score is NaN.</exception>
    public static double RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positives)
    {
        int[] order = SortedDescending(scores, positives);
        long nPos = 0, nNeg = 0;
        foreach (bool p in positives)
        {
            if (p)
            {
                nPos++;
            }
            else
            {
                nNeg++;
            }
        }

        if (nPos == 0 || nNeg == 0)
        {
            return double.NaN;
        }

        // Sweep the distinct thresholds from high to low; each group of ties adds a trapezoid.
        double area = 0;
        long tp = 0, fp = 0;
        int i = 0;
        while (i < order.Length)
        {
            double s = scores[order[i]];
            long gp = 0, gn = 0;
            for (; i < order.Length && scores[order[i]] == s; i++)
            {
                if (positives[order[i]])
                {
                    gp++;
                }
                else
                {
                    gn++;
                }
            }

            area += gn * (tp + (gp / 2.0));
            tp += gp;
            fp += gn;
        }

        return area / ((double)nPos * nNeg);
    }

    /// <summary>
    /// Average precision, the step-wise area under the precision-recall curve as in scikit-learn:
    /// <c>AP = sum over distinct thresholds (R_k - R_(k-1)) x P_k</c>, no interpolation.
    /// </summary>
    /// <returns>AP in [0, 1]; <see cref="double.NaN"/> when there is no positive sample.</returns>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or a score is NaN.</exception>
    public static double AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positives)
    {
        int[] order = SortedDescending(scores, positives);
        long nPos = 0;
        foreach (bool p in positives)
        {
            nPos += p ? 1 : 0;
        }

        if (nPos == 0)
        {
            return double.NaN;
        }

        double ap = 0, prevRecall = 0;
        long tp = 0, predicted = 0;
        int i = 0;
        while (i < order.Length)
        {
            double s = scores[order[i]];
            for (; i < order.Length && scores[order[i]] == s; i++)
            {
                tp += positives[order[i]] ? 1 : 0;
                predicted++;
            }

            double recall = (double)tp / nPos;
            ap += (recall - prevRecall) * ((double)tp / predicted);
            prevRecall = recall;
        }

        return ap;
    }

    /// <summary>
    /// Picks a threshold by <paramref name="options"/> among the distinct scores (a sample is positive when
    /// <c>score &gt;= threshold</c>, so the chosen threshold is one of the scores).
    /// </summary>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, a score is NaN, or there is no positive sample.</exception>
    public static double SelectThreshold(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positives, ThresholdOptions? options = null)
    {
        options ??= new ThresholdOptions();
        if (!(options.NegativeWeight > 0 && double.IsFinite(options.NegativeWeight)))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"NegativeWeight must be a positive finite number, got {options.NegativeWeight}.");
        }

        if (options.Rule == ThresholdRule.TargetRecall && !(options.TargetRecall > 0 && options.TargetRecall <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"TargetRecall must be in (0, 1], got {options.TargetRecall}.");
        }

        int[] order = SortedDescending(scores, positives);
        long nPos = 0;
        foreach (bool p in positives)
        {
            nPos += p ? 1 : 0;
        }

        if (nPos == 0)
        {
            throw new ArgumentException("Cannot choose a threshold without any positive sample.", nameof(positives));
        }

        double best = double.NaN, bestF1 = -1;
        long tp = 0, predicted = 0;
        int i = 0;
        List<(double Score, double F1)>? curve = options.Rule == ThresholdRule.StableF1 ? [] : null;
        while (i < order.Length)
        {
            double s = scores[order[i]];
            for (; i < order.Length && scores[order[i]] == s; i++)
            {
                tp += positives[order[i]] ? 1 : 0;
                predicted++;
            }

            double recall = (double)tp / nPos;
            if (options.Rule == ThresholdRule.TargetRecall)
            {
                if (recall >= options.TargetRecall - 1e-12)
                {
                    return s;
                }

                continue;
            }

            double f1 = 2.0 * tp / (tp + (options.NegativeWeight * (predicted - tp)) + nPos);
            curve?.Add((s, f1));
            if (f1 >= bestF1)
            {
                bestF1 = f1;
                best = s;
            }
        }

        return curve is null ? best : Stable(curve, bestF1, scores, positives, options.F1Tolerance);
    }

    // The median of the near-best cut points (each the midpoint between a score and the next lower one, so that a
    // separable set is cut between its classes), kept between the class medians.
    private static double Stable(List<(double Score, double F1)> curve, double bestF1, ReadOnlySpan<double> scores, ReadOnlySpan<bool> positives, double tolerance)
    {
        List<double> near = [];
        for (int k = 0; k < curve.Count; k++)
        {
            if (curve[k].F1 >= bestF1 - tolerance)
            {
                double below = k + 1 < curve.Count ? curve[k + 1].Score : curve[k].Score;
                near.Add((curve[k].Score + below) / 2);
            }
        }

        near.Sort();
        double t = near[near.Count / 2];
        List<double> pos = [], neg = [];
        for (int k = 0; k < scores.Length; k++)
        {
            (positives[k] ? pos : neg).Add(scores[k]);
        }

        if (neg.Count == 0)
        {
            return t;
        }

        double lo = Median(neg), hi = Median(pos);
        return lo <= hi ? Math.Clamp(t, lo, hi) : t;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static int[] SortedDescending(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positives)
    {
        if (scores.Length != positives.Length)
        {
            throw new ArgumentException($"There are {scores.Length} scores but {positives.Length} labels.", nameof(positives));
        }

        if (scores.Length == 0)
        {
            throw new ArgumentException("No samples to measure.", nameof(scores));
        }

        double[] keys = new double[scores.Length];
        int[] order = new int[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            if (double.IsNaN(scores[i]))
            {
                throw new ArgumentException($"Score {i} is NaN.", nameof(scores));
            }

            keys[i] = -scores[i];
            order[i] = i;
        }

        Array.Sort(keys, order);
        return order;
    }
}

namespace DefectDetection.Vision.Anomaly;

/// <summary>How the decision threshold is set from normal images when no anomalies are labelled.</summary>
public enum AnomalyThresholdRule
{
    /// <summary>A stated percentile of the held-out normal scores (<see cref="AnomalyThresholdOptions.Percentile"/>).</summary>
    Percentile,

    /// <summary>Mean plus k standard deviations of the held-out normal scores (<see cref="AnomalyThresholdOptions.K"/>).</summary>
    MeanPlusKSigma,
}

/// <summary>Which images set the threshold of an anomaly model.</summary>
public enum AnomalyThresholdSource
{
    /// <summary>The labelled anomalies when the training data has some (<see cref="LabelledAnomalies"/>), else the normal images only (<see cref="Normals"/>).</summary>
    Automatic,

    /// <summary>Held-out normal images only, by <see cref="AnomalyThresholdOptions.Rule"/>; labelled anomalies in the training data are left out.</summary>
    Normals,

    /// <summary>The F1-optimal threshold over the held-out normal images and the labelled anomalies; training data without anomalies is refused.</summary>
    LabelledAnomalies,
}

/// <summary>
/// Threshold selection: <see cref="Source"/> says which images set it. The normal images are scored out of fold
/// (<see cref="Folds"/>). From labelled anomalies, the F1-optimal threshold over those scores and the anomalies' is
/// taken; from normal images only, <see cref="Rule"/> applies to the out-of-fold normal scores.
/// </summary>
public sealed class AnomalyThresholdOptions
{
    /// <summary>
    /// Which images set the threshold. Default <see cref="AnomalyThresholdSource.Automatic"/>: labelled anomalies when
    /// the training data has some, else normal images only.
    /// </summary>
    public AnomalyThresholdSource Source { get; init; } = AnomalyThresholdSource.Automatic;

    /// <summary>
    /// The rule for normal images only. Default <see cref="AnomalyThresholdRule.Percentile"/> (95th of the out-of-fold
    /// scores: about one normal image in twenty at or above it; the 99th of a few dozen scores is their maximum, which
    /// one unusual training image sets).
    /// </summary>
    public AnomalyThresholdRule Rule { get; init; } = AnomalyThresholdRule.Percentile;

    /// <summary>The percentile (0..100) for <see cref="AnomalyThresholdRule.Percentile"/>. Default 95.</summary>
    public double Percentile { get; init; } = 95;

    /// <summary>k for <see cref="AnomalyThresholdRule.MeanPlusKSigma"/>. Default 3.</summary>
    public double K { get; init; } = 3;

    /// <summary>
    /// Folds of the out-of-fold calibration: the normal images are split into this many folds and each fold is scored
    /// against a memory bank built from all the others, so every calibration score is that of an image the bank has
    /// not seen. Default 5.
    /// </summary>
    public int Folds { get; init; } = 5;

    /// <summary>Normal images up to which calibration leaves one image out at a time instead of using <see cref="Folds"/> (a fold of a tiny set would remove much of its bank).</summary>
    public const int LeaveOneOutUpTo = 20;

    /// <summary>
    /// Most normal images scored out of fold (evenly spaced in the order of their content, a hash of the file or of
    /// the pixels, so the same images give the same threshold whatever order they come in); all of them when there are
    /// fewer. Default 100.
    /// </summary>
    public int MaxCalibrationImages { get; init; } = 100;

    internal void Validate()
    {
        if (!Enum.IsDefined(Source))
        {
            throw new ArgumentOutOfRangeException(nameof(Source), $"Source must be Automatic, Normals or LabelledAnomalies, got {Source}.");
        }

        if (!Enum.IsDefined(Rule))
        {
            throw new ArgumentOutOfRangeException(nameof(Rule), $"Rule must be Percentile or MeanPlusKSigma, got {Rule}.");
        }

        if (!(Percentile >= 0 && Percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(Percentile), $"Percentile must be in [0, 100], got {Percentile}.");
        }

        if (!(K >= 0) || double.IsInfinity(K))
        {
            throw new ArgumentOutOfRangeException(nameof(K), $"K must be finite and non-negative, got {K}.");
        }

        if (Folds < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Folds), $"Folds must be at least 2, got {Folds}.");
        }

        if (MaxCalibrationImages < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCalibrationImages), $"MaxCalibrationImages must be at least 1, got {MaxCalibrationImages}.");
        }
    }
}

/// <summary>Threshold arithmetic shared by the anomaly models.</summary>
internal static class AnomalyThreshold
{
    /// <summary>The threshold from held-out normal scores alone.</summary>
    public static double FromNormals(IReadOnlyList<double> normalScores, AnomalyThresholdOptions options)
    {
        if (normalScores.Count == 0)
        {
            throw new ArgumentException("No normal scores to calibrate the threshold.", nameof(normalScores));
        }

        if (options.Rule == AnomalyThresholdRule.Percentile)
        {
            return Percentile(normalScores, options.Percentile);
        }

        (double mean, double std) = MeanStd(normalScores);
        return mean + (options.K * std);
    }

    /// <summary>
    /// The F1-optimal threshold (score &gt;= threshold is an anomaly); each normal score stands for
    /// <paramref name="normalWeight"/> normal images (the calibration scores are a sample of the normals when there
    /// are more than it takes), so that the false alarms are counted at the data's own share of normal images.
    /// </summary>
    public static double FromLabelled(IReadOnlyList<double> normalScores, IReadOnlyList<double> anomalyScores, double normalWeight = 1)
    {
        double[] scores = [.. normalScores, .. anomalyScores];
        bool[] positives = new bool[scores.Length];
        positives.AsSpan(normalScores.Count).Fill(true);
        return DefectDetection.Metrics.BinaryMetrics.SelectThreshold(scores, positives, new DefectDetection.Metrics.ThresholdOptions { NegativeWeight = normalWeight });
    }

    /// <summary>Linear-interpolated percentile (0..100), like NumPy's default.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        double[] sorted = [.. values];
        Array.Sort(sorted);
        double pos = percentile / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(sorted.Length - 1, lo + 1);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (pos - lo));
    }

    /// <summary>Mean and population standard deviation.</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double var = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        return (mean, Math.Sqrt(var));
    }

    /// <summary>Logistic confidence: 0.5 at the threshold, <paramref name="scale"/> the score change of one logit.</summary>
    public static float Confidence(double score, double threshold, double scale)
    {
        double z = (score - threshold) / (scale > 0 ? scale : 1);
        return (float)(1 / (1 + Math.Exp(-z)));
    }
}

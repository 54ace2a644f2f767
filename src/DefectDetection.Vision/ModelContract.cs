namespace DefectDetection.Vision;

/// <summary>Pieces every learner's model shares: probability calibration, threshold checks, label scores.</summary>
internal static class ModelContract
{
    /// <summary>
    /// A probability <paramref name="p"/> mapped piecewise linearly so that the threshold <paramref name="t"/> lands
    /// on 0.5: the calibrated confidence of the defect side.
    /// </summary>
    public static float Calibrate(double p, double t)
    {
        double c = p >= t ? 0.5 + (0.5 * (p - t) / (1 - t)) : 0.5 * p / t;
        return (float)Math.Clamp(c, 0, 1);
    }

    /// <summary>Checks a new threshold on a probability.</summary>
    public static double ProbabilityThreshold(double threshold) =>
        double.IsFinite(threshold) && threshold > 0 && threshold < 1
            ? threshold
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold of a classifier is a probability: give a value in (0, 1).");

    /// <summary>Checks a new threshold on an anomaly score.</summary>
    public static double ScoreThreshold(double threshold) =>
        double.IsFinite(threshold)
            ? threshold
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be a finite number.");

    /// <summary>The label scores of a binary anomaly verdict.</summary>
    public static IReadOnlyDictionary<string, float> AnomalyLabelScores(float confidence) =>
        new Dictionary<string, float>(StringComparer.Ordinal) { ["normal"] = 1 - confidence, ["anomaly"] = confidence };
}

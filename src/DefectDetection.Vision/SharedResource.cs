using DefectDetection.Models;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
namespace DefectDetection.Vision;

/// <summary>
/// A disposable shared by a model and its re-thresholded copies (<see cref="IDefectModel.WithThreshold"/>): disposed
/// when the last holder releases it.
/// </summary>
/// <typeparam name="T">The resource (a backbone session, a feature extractor).</typeparam>
internal sealed class SharedResource<T>(T value)
    where T : class
{
    private int _holders = 1;

    public T Value { get; } = value;

    /// <summary>One more holder; each must call <see cref="Release"/> once.</summary>
    public SharedResource<T> Acquire()
    {
        if (Interlocked.Increment(ref _holders) <= 1)
        {
            throw new ObjectDisposedException(typeof(T).Name, "The model was disposed before it was re-thresholded.");
        }

        return this;
    }

    /// <summary>Releases one holder; the last one disposes the resource.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            (Value as IDisposable)?.Dispose();
        }
    }
}

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

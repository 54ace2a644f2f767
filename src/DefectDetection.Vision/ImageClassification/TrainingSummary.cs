using DefectDetection.Metrics;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>What an <see cref="ImageClassificationModel"/> was trained on, how long it took, and its cross-validated metrics.</summary>
public sealed class TrainingSummary
{
    /// <summary>Training images.</summary>
    public int ImageCount { get; init; }

    /// <summary>Training images per label.</summary>
    public IReadOnlyDictionary<string, int> PerLabel { get; init; } = new Dictionary<string, int>();

    /// <summary>Augmented copies added to the training features.</summary>
    public int AugmentedCount { get; init; }

    /// <summary>Seconds spent decoding images and extracting features (including augmented copies; cache hits are fast).</summary>
    public double FeatureSeconds { get; init; }

    /// <summary>Seconds spent training heads (the cross-validation folds and the final head).</summary>
    public double HeadSeconds { get; init; }

    /// <summary>Out-of-fold metrics of the cross-validation (at the chosen threshold for two labels), or null when a label had too few images.</summary>
    public ClassificationMetrics? CrossValidation { get; init; }

    /// <summary>The automatic configuration's record (candidates, their cross-validated figures, the choice), or null when every searched setting was given.</summary>
    public DefectDetection.ModelFiles.TrainingSearch? Search { get; init; }

    /// <summary>The rule that set the decision threshold on out-of-fold probabilities (for example <c>StableF1</c>), or null when none was set.</summary>
    public string? ThresholdRule { get; init; }
}

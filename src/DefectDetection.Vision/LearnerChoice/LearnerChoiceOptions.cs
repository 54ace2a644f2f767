using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.LearnerChoice;

/// <summary>Options of <see cref="LearnerChoiceTrainer"/>: the options of each learner it may train.</summary>
public sealed class LearnerChoiceOptions
{
    /// <summary>
    /// The image classifier's options; its <see cref="ImageClassificationOptions.NormalLabels"/> say which labels are
    /// not defects, for every learner.
    /// </summary>
    public required ImageClassificationOptions Classifier { get; init; }

    /// <summary>
    /// The anomaly model's options, or null when there is no anomaly candidate. Its normal labels and threshold
    /// source are set by the trainer (labelled defects set the threshold when the data has them).
    /// </summary>
    public PatchCoreOptions? Anomaly { get; init; }

    /// <summary>The seed of the bootstrap that weighs one learner against another.</summary>
    public int Seed { get; init; }
}

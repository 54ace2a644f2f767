using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <summary>
/// Stage 2 of a <see cref="IDefectPipeline"/>: judges crops cut from the full-resolution image. Implementations are
/// safe to call from several threads at once.
/// </summary>
public interface ICropClassifier
{
    /// <summary>
    /// The size crops should be resized to before <see cref="Classify"/>, or null when the classifier takes crops at
    /// their own size (and resizes internally).
    /// </summary>
    CropSize? InputSize { get; }

    /// <summary>Judges a batch of crops.</summary>
    /// <param name="crops">The crops, already resized to <see cref="InputSize"/> when it is set.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>One verdict per crop, in the same order.</returns>
    IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default);
}

/// <summary>A crop size in pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct CropSize(int Width, int Height);

/// <summary>A crop classifier's judgement of one crop.</summary>
/// <param name="Label">The predicted label (for example "normal", "anomaly", "missing_hole").</param>
/// <param name="IsDefect">True when the label counts as a defect.</param>
/// <param name="Confidence">Calibrated confidence in [0, 1] that the crop is a defect (0.5 at the decision threshold).</param>
/// <param name="Score">The raw score behind the verdict (a probability or an anomaly score), for ranking.</param>
public sealed record CropVerdict(string Label, bool IsDefect, float Confidence, float Score)
{
    /// <summary>
    /// Optional anomaly map over the crop (row-major, <see cref="AnomalyMapWidth"/> x <see cref="AnomalyMapHeight"/>),
    /// higher is more anomalous.
    /// </summary>
    public float[]? AnomalyMap { get; init; }

    /// <summary>Width of <see cref="AnomalyMap"/>.</summary>
    public int AnomalyMapWidth { get; init; }

    /// <summary>Height of <see cref="AnomalyMap"/>.</summary>
    public int AnomalyMapHeight { get; init; }

    /// <summary>
    /// Optional defects the classifier located inside the crop, each with its own box (crop coordinates, in the
    /// classifier's <see cref="ICropClassifier.InputSize"/> when it has one), label and confidence: the anomaly regions of
    /// an anomaly detector, or defects told apart from the region that showed them (stray copper beside a pin). When
    /// set and non-empty on a defect verdict, <see cref="DefectPipeline"/> reports these, mapped to image coordinates,
    /// instead of the region's box.
    /// </summary>
    public IReadOnlyList<Defect>? LocalizedDefects { get; init; }
}

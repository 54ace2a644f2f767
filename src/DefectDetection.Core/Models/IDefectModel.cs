using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Models;

/// <summary>
/// A trained model, whatever learner made it: it judges images, can be re-thresholded without retraining, serves as a
/// pipeline crop classifier and saves to one <c>.ddmodel</c> file that <c>DefectModel.Load</c> opens again.
/// Implementations are immutable and safe to call from several threads; dispose a model to release its backbone.
/// </summary>
public interface IDefectModel : IDisposable
{
    /// <summary>The learner that made the model, as written in its file (see <see cref="Learners"/>).</summary>
    string Learner { get; }

    /// <summary>What the model does.</summary>
    DefectTask Task { get; }

    /// <summary>The labels the model predicts (for anomaly models <c>normal</c> and <c>anomaly</c>).</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>The labels that are not defects.</summary>
    IReadOnlyList<string> NormalLabels { get; }

    /// <summary>
    /// The decision threshold on <see cref="DefectPrediction.Score"/>: an image is a defect when its score reaches
    /// it. Null when the verdict is the likeliest label (a classifier of several labels trained without one).
    /// </summary>
    double? Threshold { get; }

    /// <summary>Judges one image.</summary>
    /// <param name="image">The image (any size; the model resizes as it was trained to).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default);

    /// <summary>Judges several images (batched where the learner can), in input order.</summary>
    /// <param name="images">The images.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default);

    /// <summary>
    /// The same model with another decision threshold on <see cref="DefectPrediction.Score"/> (cheap: the trained
    /// state is shared; each copy must still be disposed). The confidence is recalibrated so that 0.5 stays at the
    /// threshold.
    /// </summary>
    /// <param name="threshold">The new threshold, finite and in the range of the model's scores (for probabilities (0, 1)).</param>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is not finite or outside the score's range.</exception>
    IDefectModel WithThreshold(double threshold);

    /// <summary>The model as stage 2 of a <see cref="IDefectPipeline"/> (shares the model; do not dispose the model while the pipeline runs).</summary>
    ICropClassifier AsCropClassifier();

    /// <summary>Writes the model as one <c>.ddmodel</c> file (to a temporary file, then renamed into place).</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Save options (by default an existing file is not replaced and the backbone is embedded).</param>
    /// <exception cref="IOException">The file exists and <see cref="DefectModelSaveOptions.Overwrite"/> is false, or cannot be written.</exception>
    void Save(string path, DefectModelSaveOptions? options = null);

    /// <summary>Writes the model's <c>.ddmodel</c> bytes to a stream (<see cref="DefectModelSaveOptions.Overwrite"/> does not apply).</summary>
    /// <param name="stream">A writable stream; it is left open.</param>
    /// <param name="options">Save options.</param>
    void Save(Stream stream, DefectModelSaveOptions? options = null);
}

/// <summary>What a model does.</summary>
public enum DefectTask
{
    /// <summary>Whole images sorted into labels, some of them normal (transfer learning on a backbone, or weight-free features).</summary>
    Classification,

    /// <summary>Trained on normal images; scores how far an image departs from them, with a map that locates it.</summary>
    AnomalyDetection,

    /// <summary>Judges regions cut by a pipeline's detector (pin crops, test/golden-template differences) and locates the defects in them.</summary>
    RegionClassification,
}

/// <summary>The learner names written into model files and reported by <see cref="IDefectModel.Learner"/>.</summary>
public static class Learners
{
    /// <summary>Transfer-learning (or weight-free) image classifier with a softmax head.</summary>
    public const string ImageClassifier = "image_classifier";

    /// <summary>PatchCore-class anomaly detector: a memory bank of normal patch features.</summary>
    public const string PatchCore = "patchcore";

    /// <summary>Variation model: per-pixel mean and spread of aligned normal images.</summary>
    public const string VariationModel = "variation_model";

    /// <summary>Pin-residual crop classifier: per-pixel normal models of aligned crops, with a head on each excess region.</summary>
    public const string PinResidual = "pin_residual";

    /// <summary>Template-difference classifier: defect types from a test/golden-template comparison.</summary>
    public const string TemplateDifference = "template_difference";

    /// <summary>An image classifier and an anomaly model whose standardised scores are added (chosen by cross-validation when both help).</summary>
    public const string Combined = "combined";

    /// <summary>The labels taken as normal by default: <c>normal</c>, <c>good</c> (MVTec AD), <c>ok</c> (OK/NG sets) and <c>free</c> (defect-free, as in the magnetic tiles).</summary>
    public static IReadOnlyList<string> DefaultNormalLabels { get; } = ["normal", "good", "ok", "free"];
}

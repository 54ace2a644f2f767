using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.Vision.Features;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>Augmented copies of every training image, each run through the feature extractor (flags combine).</summary>
[Flags]
public enum ImageAugmentation
{
    /// <summary>No augmentation (default).</summary>
    None = 0,

    /// <summary>A left-right mirror.</summary>
    FlipHorizontal = 1,

    /// <summary>A top-bottom mirror.</summary>
    FlipVertical = 2,

    /// <summary>Turns by 90, 180 and 270 degrees.</summary>
    Rotate90 = 4,

    /// <summary>Four corner crops keeping 85% of each side.</summary>
    Crops = 8,
}

/// <summary>Options of <see cref="ImageClassificationTrainer"/>; validated when the trainer is created.</summary>
public sealed class ImageClassificationOptions
{
    /// <summary>
    /// The ONNX backbone (<see cref="Backbones.BackboneSpec"/>: file, input layout and taps); features are its pooled
    /// taps (see <see cref="Backbones.OnnxFeatureExtractor"/>); with no taps named, the last spatial tensor before its
    /// global pooling, or with <see cref="AutoConfig"/> on also the stage outputs before it when cross-validation
    /// prefers them. Null (default): the weight-free <see cref="GradientHistogramFeatureExtractor"/> with
    /// <see cref="WeightFree"/> options.
    /// </summary>
    public Backbones.BackboneSpec? Backbone { get; init; }

    /// <summary>
    /// How each tapped map is pooled to a vector. Null (default): chosen by cross-validation on the training images
    /// among average, max and both (see <see cref="AutoConfig"/>; <see cref="Backbones.FeaturePooling.Average"/> when the
    /// search is off). Not used by the weight-free extractor.
    /// </summary>
    public Backbones.FeaturePooling? Pooling { get; init; }

    /// <summary>
    /// With a <see cref="Backbone"/>: also append the weight-free gradient histograms (<see cref="WeightFree"/> options)
    /// to the backbone's features, plain texture and colour statistics beside the learned ones. Null (default): chosen by
    /// cross-validation on the training images (see <see cref="AutoConfig"/>; false when the search is off).
    /// </summary>
    public bool? AppendWeightFree { get; init; }

    /// <summary>Images per backbone run. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Threads inside one backbone operator. Default: <see cref="Environment.ProcessorCount"/>.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Options of the weight-free extractor used when <see cref="Backbone"/> is null. Default: its defaults.</summary>
    public GradientHistogramOptions WeightFree { get; init; } = new();

    /// <summary>The classifier head's options (L2, optimizer, class weighting, early stopping...). Its seed is replaced by <see cref="Seed"/>.</summary>
    public SoftmaxClassifierOptions Head { get; init; } = new();

    /// <summary>
    /// Augmented copies added to the training features. Null (default): chosen by cross-validation on the training
    /// images between none and both flips (see <see cref="AutoConfig"/>; <see cref="ImageAugmentation.None"/> when the
    /// search is off).
    /// </summary>
    public ImageAugmentation? Augmentation { get; init; }

    /// <summary>
    /// Automatic configuration of the settings left null or empty: the backbone's taps (<see cref="Backbones.BackboneSpec.Taps"/>),
    /// <see cref="Pooling"/>, <see cref="AppendWeightFree"/>, <see cref="Augmentation"/> and the head's L2 (<see cref="SoftmaxClassifierOptions.L2"/>),
    /// chosen by k-fold cross-validation on the training images only and recorded in
    /// <see cref="TrainingSummary.Search"/> (see docs/auto-config.md). Default: on, 5-minute budget.
    /// </summary>
    public AutoConfigOptions AutoConfig { get; init; } = new();

    /// <summary>
    /// The fraction of the training images the head holds out for early stopping and temperature calibration.
    /// Default 0: the head trains to convergence on every image (early stopping measured worse, see
    /// docs/experiments.md); the positive label's threshold comes from cross-validation either way.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>
    /// The positive label of a two-label task (default <c>anomaly</c>): its decision threshold is chosen on
    /// cross-validated (out-of-fold) probabilities by <see cref="Threshold"/>. Other tasks predict the likeliest label.
    /// </summary>
    public string PositiveLabel { get; init; } = "anomaly";

    /// <summary>The labels that are not defects, for <see cref="Pipeline.ICropClassifier"/> verdicts. Default: <c>normal</c>.</summary>
    public IReadOnlyList<string> NormalLabels { get; init; } = ["normal"];

    /// <summary>
    /// For more than two labels, some of them in <see cref="NormalLabels"/>: also choose a threshold on
    /// P(defect) = 1 - P(normal labels) by <see cref="Threshold"/> on cross-validated probabilities (see
    /// <see cref="ImageClassificationModel.DefectThreshold"/>). Default false: a defect is a non-normal likeliest label.
    /// </summary>
    public bool ChooseDefectThreshold { get; init; }

    /// <summary>
    /// The threshold rule on the pooled out-of-fold probabilities. Default <see cref="ThresholdRule.StableF1"/>: near-best
    /// F1, kept between the class medians, so that a few noisy folds cannot push it to an extreme.
    /// </summary>
    public ThresholdOptions Threshold { get; init; } = new() { Rule = ThresholdRule.StableF1 };

    /// <summary>Folds of the cross-validation that chooses the threshold (bounded by the smallest label's count). Default 5.</summary>
    public int ThresholdFolds { get; init; } = 5;

    /// <summary>Seed of every random choice (validation split, folds). Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// A folder where image features are also kept between runs (keyed by file content hash and extractor identity).
    /// Null (default): features are cached in memory only, for the trainer's lifetime.
    /// </summary>
    public string? CacheDirectory { get; init; }

    internal void Validate()
    {
        Backbone?.Validate();
        ArgumentNullException.ThrowIfNull(WeightFree, nameof(WeightFree));
        ArgumentNullException.ThrowIfNull(Head, nameof(Head));
        ArgumentNullException.ThrowIfNull(Threshold, nameof(Threshold));
        ArgumentNullException.ThrowIfNull(NormalLabels, nameof(NormalLabels));
        ArgumentNullException.ThrowIfNull(AutoConfig, nameof(AutoConfig));
        Head.Validate();
        if (Pooling is { } pooling && !Enum.IsDefined(pooling))
        {
            throw new ArgumentOutOfRangeException(nameof(Pooling), pooling, "Unknown pooling.");
        }

        ArgumentException.ThrowIfNullOrEmpty(PositiveLabel, nameof(PositiveLabel));
        if (!(ValidationFraction is >= 0 and < 0.9))
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "Must be in [0, 0.9).");
        }

        if (ThresholdFolds is < 2 or > 20)
        {
            throw new ArgumentOutOfRangeException(nameof(ThresholdFolds), ThresholdFolds, "Must be in [2, 20].");
        }

        if (Augmentation is { } augmentation && (augmentation & ~(ImageAugmentation.FlipHorizontal | ImageAugmentation.FlipVertical | ImageAugmentation.Rotate90 | ImageAugmentation.Crops)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Augmentation), Augmentation, "Unknown augmentation flag.");
        }

        if (BatchSize < 1 || Threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), "BatchSize and Threads must be at least 1.");
        }
    }
}

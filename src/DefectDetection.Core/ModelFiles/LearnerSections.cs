using System.Text.Json.Serialization;

namespace DefectDetection.ModelFiles;

// The learners' typed manifest sections. A model file holds exactly the section of the learner that wrote it
// (ModelManifest.Learner names it). Settings that are off by default are written only when on
// (JsonIgnoreCondition.WhenWritingDefault), so a reader that predates a setting refuses exactly the files that use it:
// the strict reader refuses fields it does not know.

/// <summary>The image classifier's settings (<see cref="ModelManifest.ImageClassifier"/>).</summary>
public sealed class ImageClassifierSection
{
    /// <summary>The feature extractor: <c>onnx-gap</c> (pooled maps of a backbone, see <see cref="ModelManifest.Backbone"/>), <c>gradient-histogram</c> (weight-free) or <c>onnx-gap+gradient-histogram</c> (both, concatenated).</summary>
    public string Extractor { get; init; } = string.Empty;

    /// <summary>The extractor's identity string, compared with the rebuilt extractor's when loading.</summary>
    public string ExtractorIdentity { get; init; } = string.Empty;

    /// <summary>Features per image.</summary>
    public int FeatureLength { get; init; }

    /// <summary>The labels that mean "no defect".</summary>
    public IReadOnlyList<string> NormalLabels { get; init; } = [];

    /// <summary>For a two-label model with a tuned threshold, the label the threshold applies to; else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PositiveLabel { get; init; }

    /// <summary>The rule that chose the threshold on out-of-fold probabilities (for example <c>StableF1</c>), or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ThresholdRule { get; init; }

    /// <summary>The threshold on the probability of "any defect label", or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DefectThreshold { get; init; }

    /// <summary>How an ONNX backbone's maps are pooled (<c>Average</c>, <c>Max</c>, <c>AverageAndMax</c>), or null for the weight-free extractor.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Pooling { get; init; }

    /// <summary>The weight-free extractor's settings, or null for an ONNX backbone.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WeightFreeExtractorInfo? WeightFree { get; init; }

    /// <summary>Seconds spent extracting training features.</summary>
    public double FeatureSeconds { get; init; }

    /// <summary>Seconds spent training the head.</summary>
    public double HeadSeconds { get; init; }

    /// <summary>Augmented copies added to the training features.</summary>
    public int AugmentedCount { get; init; }
}

/// <summary>The weight-free gradient-histogram extractor's settings.</summary>
public sealed class WeightFreeExtractorInfo
{
    /// <summary>Side the image is resized to.</summary>
    public int Size { get; init; }

    /// <summary>Cells a side.</summary>
    public int Grid { get; init; }

    /// <summary>Orientation bins.</summary>
    public int Bins { get; init; }

    /// <summary>Pyramid scales.</summary>
    public int Scales { get; init; }
}

/// <summary>The PatchCore anomaly model's settings (<see cref="ModelManifest.PatchCore"/>); the input size is the preprocessing's width.</summary>
public sealed class PatchCoreSection
{
    /// <summary>Tiles a side.</summary>
    public int Tiles { get; init; }

    /// <summary>Patches ignored at each border of the map.</summary>
    public int BorderPatches { get; init; }

    /// <summary>Local aggregation window.</summary>
    public int Neighbourhood { get; init; }

    /// <summary>Gaussian sigma of the map smoothing, in input pixels.</summary>
    public float MapSigma { get; init; }

    /// <summary>Smallest reported region, in map pixels.</summary>
    public int MinRegionArea { get; init; }

    /// <summary>The scale that turns a score into a confidence.</summary>
    public double ConfidenceScale { get; init; }

    /// <summary>Fraction of patches kept in the memory bank.</summary>
    public double CoresetRatio { get; init; }

    /// <summary>Normal images the model was trained on.</summary>
    public int TrainingImages { get; init; }

    /// <summary>The held-out normal scores the threshold and confidence were calibrated on.</summary>
    public IReadOnlyList<double> CalibrationScores { get; init; } = [];

    /// <summary>Weight of the image-context term; 0 when off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double ContextWeight { get; init; }

    /// <summary>Scale of the image-context term.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public float ContextScale { get; init; }

    /// <summary>The image-context model, or null when off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<float>? ContextModel { get; init; }

    /// <summary>Weight of the patch-position features; 0 when off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public float PositionWeight { get; init; }

    /// <summary>Features each tapped layer is reduced to; 0: every channel.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int MaxLayerFeatures { get; init; }

    /// <summary>Training images whose bank rows are searched for each scored image; 0: the whole bank.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int NearestImages { get; init; }
}

/// <summary>The variation model's settings (<see cref="ModelManifest.Variation"/>).</summary>
public sealed class VariationSection
{
    /// <summary>Absolute tolerance above the mean, in grey levels.</summary>
    public float AbsoluteBright { get; init; }

    /// <summary>Absolute tolerance below the mean, in grey levels.</summary>
    public float AbsoluteDark { get; init; }

    /// <summary>Tolerance above the mean, in spreads.</summary>
    public float RelativeBright { get; init; }

    /// <summary>Tolerance below the mean, in spreads.</summary>
    public float RelativeDark { get; init; }

    /// <summary>Largest alignment shift in pixels.</summary>
    public int MaxShift { get; init; }

    /// <summary>Gaussian sigma of the map smoothing.</summary>
    public float MapSigma { get; init; }

    /// <summary>Smallest reported region in pixels.</summary>
    public int MinRegionArea { get; init; }
}

/// <summary>The pin-residual crop classifier's settings (<see cref="ModelManifest.PinResidual"/>).</summary>
public sealed class PinResidualSection
{
    /// <summary>Weights of the colour channels in the grey residual.</summary>
    public IReadOnlyList<float> ChannelWeights { get; init; } = [];

    /// <summary>Side crops are resized to.</summary>
    public int Size { get; init; }

    /// <summary>Largest alignment shift in pixels.</summary>
    public int MaxShift { get; init; }

    /// <summary>Most prototypes kept.</summary>
    public int Prototypes { get; init; }

    /// <summary>Residual level that counts as excess.</summary>
    public float ExcessThreshold { get; init; }

    /// <summary>Spreads a residual must exceed.</summary>
    public float SpreadFactor { get; init; }

    /// <summary>Smallest spread.</summary>
    public float SpreadFloor { get; init; }

    /// <summary>Smallest defect area in pixels.</summary>
    public int MinArea { get; init; }

    /// <summary>Radius of reported defects; 0: their extent.</summary>
    public double ReportRadius { get; init; }

    /// <summary>Smallest object level.</summary>
    public float MinObjectLevel { get; init; }

    /// <summary>Distance within which defects are joined.</summary>
    public int JoinDistance { get; init; }

    /// <summary>Margin around reported boxes.</summary>
    public int BoxMargin { get; init; }

    /// <summary>The training seed.</summary>
    public int Seed { get; init; }

    /// <summary>The defect label.</summary>
    public string DefectLabel { get; init; } = string.Empty;

    /// <summary>The head on the residual features: <c>softmax</c> or <c>none</c>.</summary>
    public string Head { get; init; } = string.Empty;
}

/// <summary>The template-difference crop classifier's settings (<see cref="ModelManifest.TemplateDifference"/>).</summary>
public sealed class TemplateDifferenceSection
{
    /// <summary>The head: <c>forest</c> or <c>softmax</c>.</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>Features per crop.</summary>
    public int FeatureLength { get; init; }

    /// <summary>Context pixels around each crop.</summary>
    public int Context { get; init; }

    /// <summary>Tolerance in pixels.</summary>
    public int Tolerance { get; init; }

    /// <summary>Largest alignment shift in pixels.</summary>
    public int MaxShift { get; init; }

    /// <summary>Grey level below which a pixel is dark.</summary>
    public int DarkThreshold { get; init; }

    /// <summary>The label of crops without a defect.</summary>
    public string NoDefectLabel { get; init; } = string.Empty;

    /// <summary>Whether training crops were augmented.</summary>
    public bool Augment { get; init; }

    /// <summary>Trees of the forest.</summary>
    public int Trees { get; init; }

    /// <summary>The training seed.</summary>
    public int Seed { get; init; }

    /// <summary>The difference detector that proposes regions.</summary>
    public TemplateDetectorInfo Detector { get; init; } = new();

    /// <summary>Typical box size per label.</summary>
    public IReadOnlyDictionary<string, int> BoxSizes { get; init; } = new Dictionary<string, int>();
}

/// <summary>The template-difference detector's settings.</summary>
public sealed class TemplateDetectorInfo
{
    /// <summary>Largest alignment shift in pixels.</summary>
    public int MaxShift { get; init; }

    /// <summary>Tolerance in pixels.</summary>
    public int Tolerance { get; init; }

    /// <summary>Grey-level difference that counts.</summary>
    public int DifferenceThreshold { get; init; }

    /// <summary>Smallest region area in pixels.</summary>
    public int MinArea { get; init; }

    /// <summary>Distance within which regions merge.</summary>
    public int MergeDistance { get; init; }

    /// <summary>Margin around boxes.</summary>
    public int BoxMargin { get; init; }

    /// <summary>Smallest box side.</summary>
    public int MinBoxSize { get; init; }
}

/// <summary>
/// The combined model's settings (<see cref="ModelManifest.Combined"/>): an image classifier and an anomaly model,
/// each stored whole as a nested model file (entry <c>members/NAME.ddmodel</c>, the backbone stored once in the
/// outer file), whose scores are standardised by their out-of-fold normal scores and added.
/// </summary>
public sealed class CombinedSection
{
    /// <summary>The member models, in the order their scores are added.</summary>
    public IReadOnlyList<CombinedMember> Members { get; init; } = [];

    /// <summary>The rule that set the threshold on the summed score (for example <c>best F1 over out-of-fold scores</c>).</summary>
    public string ThresholdRule { get; init; } = string.Empty;

    /// <summary>The scale that turns the summed score's distance from the threshold into a confidence.</summary>
    public double ConfidenceScale { get; init; }
}

/// <summary>One member of a <see cref="CombinedSection"/>.</summary>
public sealed class CombinedMember
{
    /// <summary>The member's name (letters, digits, <c>_</c>, <c>-</c>); its file is the entry <c>members/NAME.ddmodel</c>.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The learner that wrote the member file.</summary>
    public string Learner { get; init; } = string.Empty;

    /// <summary>Bytes of the member file.</summary>
    public long Bytes { get; init; }

    /// <summary>Lower-case hex SHA-256 of the member file.</summary>
    public string Sha256 { get; init; } = string.Empty;

    /// <summary>
    /// What the member's score is turned into before the scores are added: <c>logit</c> (of a probability) or
    /// <c>score</c> (as it is); then the center is subtracted and the result divided by the scale.
    /// </summary>
    public string Transform { get; init; } = string.Empty;

    /// <summary>The mean of the transformed out-of-fold scores of the training normals.</summary>
    public double Center { get; init; }

    /// <summary>Their standard deviation (positive).</summary>
    public double Scale { get; init; }
}

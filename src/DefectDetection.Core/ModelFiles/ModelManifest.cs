using System.Text.Json.Serialization;

namespace DefectDetection.ModelFiles;

/// <summary>
/// The description stored as <c>manifest.json</c> in a <c>.ddmodel</c> file: what the model does and how it was
/// made. Written with snake_case names. <see cref="FormatVersion"/>, <see cref="LibraryVersion"/> and
/// <see cref="Entries"/> are filled in by <see cref="ModelPackage.Save(string, ModelSaveOptions?)"/>.
/// </summary>
public sealed class ModelManifest
{
    /// <summary>Version of the file format (see <see cref="ModelPackage.CurrentFormatVersion"/>).</summary>
    public int FormatVersion { get; init; } = ModelPackage.CurrentFormatVersion;

    /// <summary>Version of the library that wrote the file.</summary>
    public string LibraryVersion { get; init; } = ModelPackage.LibraryVersion;

    /// <summary>What the model does, for example <c>classification</c> or <c>anomaly_detection</c>.</summary>
    public string Task { get; init; } = "classification";

    /// <summary>
    /// The learner that wrote the file (one of <see cref="DefectDetection.Models.Learners"/>), which names the one
    /// learner section that holds its settings; empty for a bare package (tensors only). Files of format version 1 get
    /// it from their task and properties.
    /// </summary>
    public string Learner { get; init; } = string.Empty;

    /// <summary>The labels, in the order of the model's outputs.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>How images are prepared before the backbone, or null.</summary>
    public PreprocessingInfo? Preprocessing { get; init; }

    /// <summary>The feature extractor or ONNX backbone the head was trained on, or null.</summary>
    public BackboneInfo? Backbone { get; init; }

    /// <summary>The decision threshold (for example on the anomaly probability), or null.</summary>
    public double? Threshold { get; init; }

    /// <summary>What the model was trained on, or null.</summary>
    public TrainingDataSummary? TrainingData { get; init; }

    /// <summary>Evaluation figures by name (for example <c>accuracy</c>, <c>macro_f1</c>, <c>roc_auc</c>), or empty.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>The image classifier's settings when <see cref="Learner"/> is <c>image_classifier</c>, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName(DefectDetection.Models.Learners.ImageClassifier)]
    public ImageClassifierSection? ImageClassifier { get; init; }

    /// <summary>The PatchCore model's settings when <see cref="Learner"/> is <c>patchcore</c>, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName(DefectDetection.Models.Learners.PatchCore)]
    public PatchCoreSection? PatchCore { get; init; }

    /// <summary>The variation model's settings when <see cref="Learner"/> is <c>variation_model</c>, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName(DefectDetection.Models.Learners.VariationModel)]
    public VariationSection? Variation { get; init; }

    /// <summary>The pin-residual classifier's settings when <see cref="Learner"/> is <c>pin_residual</c>, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName(DefectDetection.Models.Learners.PinResidual)]
    public PinResidualSection? PinResidual { get; init; }

    /// <summary>The template-difference classifier's settings when <see cref="Learner"/> is <c>template_difference</c>, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName(DefectDetection.Models.Learners.TemplateDifference)]
    public TemplateDifferenceSection? TemplateDifference { get; init; }

    /// <summary>The combined model's settings and members when <see cref="Learner"/> is <c>combined</c>, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName(DefectDetection.Models.Learners.Combined)]
    public CombinedSection? Combined { get; init; }

    /// <summary>What automatic configuration tried and chose while training, or null when nothing was searched.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TrainingSearch? Search { get; init; }

    // Format version 1 kept the learners' settings as strings here; the reader turns them into the learner's section
    // (ManifestV1) and clears them, and format version 2 refuses them.
    [JsonInclude]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal IReadOnlyDictionary<string, string>? Properties { get; init; }

    /// <summary>When the model was made (UTC).</summary>
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The binary entries of the file with their shapes and hashes (filled in when saving).</summary>
    public IReadOnlyList<TensorEntryInfo> Entries { get; init; } = [];
}

/// <summary>Image preparation before the backbone.</summary>
public sealed class PreprocessingInfo
{
    /// <summary>Input width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Input height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>How the image is brought to size, for example <c>stretch</c>, <c>letterbox</c> or <c>center_crop</c>.</summary>
    public string Resize { get; init; } = "stretch";

    /// <summary>Colour handling, for example <c>rgb</c> or <c>gray</c>.</summary>
    public string Color { get; init; } = "rgb";

    /// <summary>Per-channel mean subtracted after scaling to [0, 1], or empty.</summary>
    public IReadOnlyList<float> Mean { get; init; } = [];

    /// <summary>Per-channel standard deviation divided by, or empty.</summary>
    public IReadOnlyList<float> Std { get; init; } = [];

    /// <summary>Channels of the input tensor (3 or 1), or null when the model has no backbone input layout.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Channels { get; init; }

    /// <summary>Channel order of a colour input (<c>Rgb</c> or <c>Bgr</c>), or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ChannelOrder { get; init; }

    /// <summary>The factor pixel values (0-255) are multiplied by before the mean is subtracted, or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Scale { get; init; }

    /// <summary>The resampling filter (for example <c>Bilinear</c> or <c>Area</c>), or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ResizeMode { get; init; }
}

/// <summary>The backbone or feature extractor a head depends on.</summary>
public sealed class BackboneInfo
{
    /// <summary>A name or identity string (for a built-in extractor, its <c>Identity</c>).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Lower-case hex SHA-256 of the backbone file, or null for a built-in extractor.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The layers whose outputs are taken as features, or empty.</summary>
    public IReadOnlyList<string> TappedLayers { get; init; } = [];

    /// <summary>True when the backbone's bytes are stored in the model file (entry <c>backbone.onnx</c>).</summary>
    public bool Embedded { get; init; }

    /// <summary>The model input that is fed, or null for its first input.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Input { get; init; }
}

/// <summary>A summary of the training data.</summary>
public sealed class TrainingDataSummary
{
    /// <summary>The summary of a dataset: its image count and images per label.</summary>
    /// <param name="dataset">The training images.</param>
    /// <param name="source">Where they came from (a folder, manifest or description), or null.</param>
    public static TrainingDataSummary FromDataset(DefectDetection.Datasets.ImageDataset dataset, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new TrainingDataSummary { ImageCount = dataset.Count, PerLabel = new Dictionary<string, int>(dataset.CountByLabel()), Source = source };
    }

    /// <summary>Number of training images.</summary>
    public int ImageCount { get; init; }

    /// <summary>Training images per label.</summary>
    public IReadOnlyDictionary<string, int> PerLabel { get; init; } = new Dictionary<string, int>();

    /// <summary>Where the data came from (a folder, manifest or description), or null.</summary>
    public string? Source { get; init; }
}

/// <summary>One binary entry of a model file: a little-endian float32 array with a shape.</summary>
public sealed class TensorEntryInfo
{
    /// <summary>The tensor name (the entry is <c>tensors/NAME.f32</c>).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The shape; the entry holds the product of the dimensions many floats.</summary>
    public IReadOnlyList<int> Shape { get; init; } = [];

    /// <summary>The element type; always <c>float32</c> in format version 1.</summary>
    public string Dtype { get; init; } = "float32";

    /// <summary>Lower-case hex SHA-256 of the entry's bytes.</summary>
    public string Sha256 { get; init; } = string.Empty;
}

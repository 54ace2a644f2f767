using System.Globalization;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;

namespace DefectDetection.ModelFiles;

/// <summary>
/// Reads manifests of format version 1, which kept each learner's settings as strings in <c>properties</c> (and the
/// PatchCore variants as an <c>algorithm</c> ladder, patchcore-v1 to v4): turns them into the learner's typed section,
/// names the learner, and fills the backbone input layout in the preprocessing block. Learners only ever see sections.
/// </summary>
internal static class ManifestV1
{
    private const string Entry = ModelPackage.ManifestEntry;

    // Options dropped because they measured no better; a file written with one of them on is refused rather than
    // scored differently.
    private static readonly (string Key, string Off)[] Dropped = [("image_score_top_k", "1"), ("standardize_images", "false"), ("reweight_neighbours", "0")];

    public static ModelManifest Upgrade(ModelManifest m, string file)
    {
        IReadOnlyDictionary<string, string> p = m.Properties
            ?? throw new ModelFileException(file, Entry, "$.properties", "missing; format version 1 keeps the learner's settings there");
        var r = new Reader(p, file);
        string? algorithm = p.TryGetValue("algorithm", out string? a) ? a : null;
        string learner = m.Task switch
        {
            "classification" => Learners.ImageClassifier,
            "anomaly" when algorithm == "variation" => Learners.VariationModel,
            "anomaly" when algorithm is "patchcore" or "patchcore-v2" or "patchcore-v3" or "patchcore-v4" => Learners.PatchCore,
            "pin_residual_classification" => Learners.PinResidual,
            "template_difference_classification" => Learners.TemplateDifference,
            _ => throw new ModelFileException(file, Entry, "$.task",
                $"task '{m.Task}'{(algorithm is null ? "" : $" with algorithm '{algorithm}'")} is not a model this version can load"),
        };

        PreprocessingInfo? pre = m.Preprocessing;
        BackboneInfo? backbone = m.Backbone;
        ImageClassifierSection? classifier = null;
        PatchCoreSection? patchCore = null;
        VariationSection? variation = null;
        PinResidualSection? pin = null;
        TemplateDifferenceSection? template = null;
        switch (learner)
        {
            case Learners.ImageClassifier:
                bool onnx = r.Text("extractor.kind") == "onnx-gap";
                classifier = new ImageClassifierSection
                {
                    Extractor = r.Text("extractor.kind"),
                    ExtractorIdentity = r.Text("extractor.identity"),
                    FeatureLength = r.Int("extractor.feature_length"),
                    NormalLabels = p.TryGetValue("normal_labels", out string? nl) && nl.Length > 0 ? nl.Split('\n') : [],
                    PositiveLabel = p.TryGetValue("positive_label", out string? pl) ? pl : null,
                    DefectThreshold = p.ContainsKey("defect_threshold") ? r.Double("defect_threshold") : null,
                    Pooling = onnx ? (p.TryGetValue("extractor.pooling", out string? pv) ? pv : "Average") : null,
                    WeightFree = onnx ? null : new WeightFreeExtractorInfo { Size = r.Int("weight_free.size"), Grid = r.Int("weight_free.grid"), Bins = r.Int("weight_free.bins"), Scales = r.Int("weight_free.scales") },
                    FeatureSeconds = r.DoubleOr("training.feature_seconds", 0),
                    HeadSeconds = r.DoubleOr("training.head_seconds", 0),
                    AugmentedCount = r.IntOr("training.augmented_count", 0),
                };
                pre = onnx && pre is not null ? WithLayout(pre, r, defaults: null) : pre;
                if (onnx && backbone is not null)
                {
                    backbone = new BackboneInfo { Name = backbone.Name, Sha256 = backbone.Sha256, TappedLayers = backbone.TappedLayers, Embedded = backbone.Embedded, Input = r.Text("backbone.input") };
                }

                break;

            case Learners.PatchCore:
                foreach ((string key, string off) in Dropped)
                {
                    if (p.TryGetValue(key, out string? v) && v != off)
                    {
                        throw new ModelFileException(file, Entry, $"$.properties.{key}", $"is {v}: the model was trained with an option this version no longer has (it measured no better); retrain it");
                    }
                }

                patchCore = new PatchCoreSection
                {
                    Tiles = r.IntOr("tiles", 1),
                    BorderPatches = r.IntOr("border_patches", 0),
                    Neighbourhood = r.Int("neighbourhood"),
                    MapSigma = r.Float("map_sigma"),
                    MinRegionArea = r.Int("min_region_area"),
                    ConfidenceScale = r.Double("confidence_scale"),
                    CoresetRatio = r.Double("coreset_ratio"),
                    TrainingImages = r.Int("training_images"),
                    CalibrationScores = p.TryGetValue("calibration_scores", out string? cs) && cs.Length > 0 ? [.. cs.Split(' ').Select(s => r.Parse<double>("calibration_scores", s))] : [],
                    ContextWeight = r.DoubleOr("context_weight", 0),
                    ContextScale = (float)r.DoubleOr("context_scale", 0),
                    ContextModel = p.TryGetValue("context_model", out string? cm) ? [.. cm.Split(' ').Select(s => r.Parse<float>("context_model", s))] : null,
                    PositionWeight = (float)r.DoubleOr("position_weight", 0),
                    MaxLayerFeatures = r.IntOr("max_layer_features", 0),
                    NearestImages = r.IntOr("nearest_images", 0),
                };
                pre = pre is null ? null : WithLayout(pre, r, TensorLayoutOptions.ImageNet);
                break;

            case Learners.VariationModel:
                variation = new VariationSection
                {
                    AbsoluteBright = r.Float("absolute_bright"),
                    AbsoluteDark = r.Float("absolute_dark"),
                    RelativeBright = r.Float("relative_bright"),
                    RelativeDark = r.Float("relative_dark"),
                    MaxShift = r.Int("max_shift"),
                    MapSigma = r.Float("map_sigma"),
                    MinRegionArea = r.Int("min_region_area"),
                };
                break;

            case Learners.PinResidual:
                pin = new PinResidualSection
                {
                    ChannelWeights = [.. r.Text("channel_weights").Split(' ').Select(s => r.Parse<float>("channel_weights", s))],
                    Size = r.Int("size"),
                    MaxShift = r.Int("max_shift"),
                    Prototypes = r.Int("prototypes"),
                    ExcessThreshold = r.Float("excess_threshold"),
                    SpreadFactor = r.Float("spread_factor"),
                    SpreadFloor = r.Float("spread_floor"),
                    MinArea = r.Int("min_area"),
                    ReportRadius = r.Double("report_radius"),
                    MinObjectLevel = r.Float("min_object_level"),
                    JoinDistance = r.Int("join_distance"),
                    BoxMargin = r.Int("box_margin"),
                    Seed = r.Int("seed"),
                    DefectLabel = r.Text("defect_label"),
                    Head = r.Text("head"),
                };
                break;

            default:
                const string boxSize = "box_size.";
                bool detector = p.ContainsKey("detector.max_shift");
                template = new TemplateDifferenceSection
                {
                    Model = r.Text("model"),
                    FeatureLength = r.Int("feature_length"),
                    Context = r.Int("context"),
                    Tolerance = r.Int("tolerance"),
                    MaxShift = r.Int("max_shift"),
                    DarkThreshold = r.Int("dark_threshold"),
                    NoDefectLabel = r.Text("no_defect_label"),
                    Augment = r.Text("augment") switch
                    {
                        "true" => true,
                        "false" => false,
                        string v => throw new ModelFileException(file, Entry, "$.properties.augment", $"'{v}' is not true or false"),
                    },
                    Trees = r.Int("trees"),
                    Seed = r.Int("seed"),

                    // Files written before the detector was stored take the detector's defaults.
                    Detector = new TemplateDetectorInfo
                    {
                        MaxShift = detector ? r.Int("detector.max_shift") : 4,
                        Tolerance = detector ? r.Int("detector.tolerance") : 1,
                        DifferenceThreshold = detector ? r.Int("detector.difference_threshold") : 64,
                        MinArea = detector ? r.Int("detector.min_area") : 8,
                        MergeDistance = detector ? r.Int("detector.merge_distance") : 6,
                        BoxMargin = detector ? r.Int("detector.box_margin") : 2,
                        MinBoxSize = detector ? r.Int("detector.min_box_size") : 0,
                    },
                    BoxSizes = p.Keys.Where(k => k.StartsWith(boxSize, StringComparison.Ordinal)).ToDictionary(k => k[boxSize.Length..], r.Int, StringComparer.Ordinal),
                };
                break;
        }

        return new ModelManifest
        {
            FormatVersion = m.FormatVersion,
            LibraryVersion = m.LibraryVersion,
            Task = m.Task,
            Learner = learner,
            Labels = m.Labels,
            Preprocessing = pre,
            Backbone = backbone,
            Threshold = m.Threshold,
            TrainingData = m.TrainingData,
            Metrics = m.Metrics,
            ImageClassifier = classifier,
            PatchCore = patchCore,
            Variation = variation,
            PinResidual = pin,
            TemplateDifference = template,
            CreatedUtc = m.CreatedUtc,
            Entries = m.Entries,
        };
    }

    // Version 1 kept the layout's channels, order, scale and resampling as properties; absent ones take the defaults
    // (PatchCore) or are an error (the classifier).
    private static PreprocessingInfo WithLayout(PreprocessingInfo pre, Reader r, TensorLayoutOptions? defaults) => new()
    {
        Width = pre.Width,
        Height = pre.Height,
        Resize = pre.Resize,
        Color = pre.Color,
        Mean = pre.Mean.Count > 0 || defaults is null ? pre.Mean : defaults.Mean,
        Std = pre.Std.Count > 0 || defaults is null ? pre.Std : defaults.Std,
        Channels = defaults is null ? r.Int("preprocessing.channels") : r.IntOr("preprocessing.channels", defaults.Channels),
        ChannelOrder = defaults is null ? r.Text("preprocessing.channel_order") : r.TextOr("preprocessing.channel_order", defaults.ChannelOrder.ToString()),
        Scale = defaults is null ? r.Float("preprocessing.scale") : (float)r.DoubleOr("preprocessing.scale", defaults.Scale),
        ResizeMode = defaults is null ? r.Text("preprocessing.resize_mode") : r.TextOr("preprocessing.resize_mode", defaults.ResizeMode.ToString()),
    };

    // Typed reads of the string properties; a missing or malformed one names its key.
    private readonly struct Reader(IReadOnlyDictionary<string, string> p, string file)
    {
        public string Text(string key) =>
            p.TryGetValue(key, out string? v) ? v : throw new ModelFileException(file, Entry, $"$.properties['{key}']", "missing");

        public string TextOr(string key, string fallback) => p.TryGetValue(key, out string? v) ? v : fallback;

        public int Int(string key) => Parse<int>(key, Text(key));

        public int IntOr(string key, int fallback) => p.ContainsKey(key) ? Int(key) : fallback;

        public float Float(string key) => Parse<float>(key, Text(key));

        public double Double(string key) => Parse<double>(key, Text(key));

        public double DoubleOr(string key, double fallback) => p.ContainsKey(key) ? Double(key) : fallback;

        public T Parse<T>(string key, string text)
            where T : ISpanParsable<T> =>
            T.TryParse(text, CultureInfo.InvariantCulture, out T? v) ? v
                : throw new ModelFileException(file, Entry, $"$.properties['{key}']", $"'{(text.Length > 40 ? text[..37] + "..." : text)}' is not a valid {typeof(T).Name.ToLowerInvariant()}");
    }
}

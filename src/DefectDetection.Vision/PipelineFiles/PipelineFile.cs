using System.Globalization;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.PipelineFiles;

/// <summary>Raised when a pipeline file is invalid; the message names the file and the field.</summary>
public sealed class PipelineFileException(string path, string field, string reason, Exception? inner = null)
    : Exception($"{path}: {field}: {reason}", inner)
{
    /// <summary>The pipeline file.</summary>
    public string Path { get; } = path;

    /// <summary>The JSON field at fault (for example <c>detector.score_threshold</c>).</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Builds a <see cref="DefectPipeline"/> from a JSON file naming the detector, the crop classifiers (model files)
/// and the options; relative paths are relative to the JSON file. Every field is checked when the file is loaded,
/// and an error names the field.
/// </summary>
/// <remarks>
/// <code>
/// {
///   "detector": { "type": "template-matching", "example_image": "golden.png", "example_box": [x, y, w, h],
///                 "score_threshold": 0.35, "rotations": [-1.5, 1.5], "label": "pin" },
///   "classifiers": { "default": "pins.ddmodel", "connector": { "model": "a.ddmodel", "backbone": "m.onnx" } },
///   "options": { "context_margin": 10, "batch_size": 64, "max_parallelism": 2,
///                "merge_overlapping_defects": false, "duplicate_suppression_distance": 0 }
/// }
/// </code>
/// Detector types: <c>template-matching</c> (above; or <c>template</c>: an image of the pattern, at most 4 MP), <c>whole-image</c>
/// (<c>label</c>; one region, the whole image: runs a whole-image model such as an anomaly model),
/// <c>sliding-window</c> (<c>tile_width</c>, <c>tile_height</c> at least 8, <c>overlap</c>, <c>max_tiles</c>), <c>onnx-detector</c>
/// (<c>model</c>, <c>layout</c>: yolox-raw | yolov5 | yolov8 | boxes-scores, <c>input_size</c>,
/// <c>score_threshold</c>, <c>nms_iou</c>, <c>class_names</c>, <c>keep_classes</c>) and <c>template-difference</c>
/// (<c>reference</c>, <c>tolerance</c>, <c>difference_threshold</c>, <c>min_area</c>, <c>merge_distance</c>,
/// <c>max_shift</c>, <c>box_margin</c>, <c>min_box_size</c>). Classifier models: image classification, anomaly
/// (PatchCore, variation) and template-difference classifiers (<see cref="TemplateDifferenceCropClassifier.Save(string, DefectDetection.Models.DefectModelSaveOptions?)"/>),
/// which are bound to the template-difference detector's reference image.
/// </remarks>
public static class PipelineFile
{
    /// <summary>The most pixels a template-matching template may have (4 MP): a template is a pattern, not a board.</summary>
    public const long MaxTemplatePixels = 1L << 22;

    /// <summary>
    /// Loads and validates a pipeline file and builds the pipeline, which owns the models, sessions and images it was
    /// built from: dispose it when done.
    /// </summary>
    /// <param name="path">The pipeline file.</param>
    /// <param name="threshold">A decision threshold for every classifier model instead of its own (see <see cref="IDefectModel.WithThreshold"/>), or null.</param>
    /// <exception cref="PipelineFileException">The file or a field in it is invalid, or the threshold does not suit a model.</exception>
    public static DefectPipeline Load(string path, double? threshold = null) => Read(path, (r, root, detector, reference, options, owned) =>
    {
        JsonElement classifiers = r.Object(root, "classifiers");
        CheckLabels(r, classifiers, RegionLabels(root.GetProperty("detector")));
        (ICropClassifier? fallback, Dictionary<string, ICropClassifier> byLabel) = BuildClassifiers(r, classifiers, reference, owned, threshold);
        try
        {
            return new DefectPipeline(detector, fallback, byLabel, options, owned);
        }
        catch (ArgumentException ex)
        {
            throw r.Error("options", ex.Message, ex);
        }
    });

    /// <summary>
    /// Loads only the detector and options of a pipeline file (its classifiers are neither needed nor loaded): for
    /// cutting the training crops of a crop classifier the file will name. Dispose the result.
    /// </summary>
    /// <exception cref="PipelineFileException">The file or a field in it is invalid.</exception>
    public static PipelineDetector LoadDetector(string path) => Read(path, (_, _, detector, _, options, owned) => new PipelineDetector(detector, options, owned));

    // Parses and validates the file, builds the detector and options, and hands them to 'build'; what was built is
    // disposed when 'build' fails.
    private static T Read<T>(string path, Func<Reader, JsonElement, IRoiDetector, Image?, DefectPipelineOptions, List<IDisposable>, T> build)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full)!;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(full), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new PipelineFileException(full, "(file)", $"not valid JSON: {ex.Message}", ex);
        }

        using (doc)
        {
            Reader r = new(full, dir);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PipelineFileException(full, "(file)", "the top level must be a JSON object");
            }

            r.OnlyKnown(root, "", "detector", "classifiers", "options");
            List<IDisposable> owned = [];
            try
            {
                (IRoiDetector detector, Image? reference) = BuildDetector(r, r.Object(root, "detector"));
                owned.AddRange(new object?[] { detector, reference }.OfType<IDisposable>());
                DefectPipelineOptions options = root.TryGetProperty("options", out JsonElement o) ? BuildOptions(r, o) : new DefectPipelineOptions();
                return build(r, root, detector, reference, options, owned);
            }
            catch
            {
                owned.ForEach(d => d.Dispose());
                throw;
            }
        }
    }

    // A classifier keyed by a label the detector never gives its regions would judge nothing: refused, naming both sides.
    private static void CheckLabels(Reader r, JsonElement classifiers, IReadOnlyCollection<string>? emitted)
    {
        if (emitted is null)
        {
            return;
        }

        foreach (JsonProperty p in classifiers.EnumerateObject())
        {
            if (p.Name != "default" && !emitted.Contains(p.Name) && !(emitted.Count == 0 && int.TryParse(p.Name, out _)))
            {
                throw r.Error($"classifiers.{p.Name}", $"the detector labels its regions {string.Join(", ", emitted.Select(l => $"'{l}'"))}; no region will be labelled '{p.Name}', so this classifier would judge nothing (key it by one of those labels, or use \"default\")");
            }
        }
    }

    // The labels the detector gives its regions (already validated by BuildDetector), or null when they cannot be
    // known from the file (an ONNX detector without class names).
    private static IReadOnlyCollection<string>? RegionLabels(JsonElement d)
    {
        string? Text(string name) => d.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        string[] List(string name) => d.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray().Select(e => e.GetString() ?? "")] : [];
        return Text("type") switch
        {
            "template-matching" => [Text("label") ?? "match"],
            "sliding-window" => [Text("label") ?? "tile"],
            "whole-image" => [Text("label") ?? "image"],
            "template-difference" => [TemplateDifferenceRoiDetector.Brighter, TemplateDifferenceRoiDetector.Darker],
            "onnx-detector" when List("keep_classes") is { Length: > 0 } keep => keep,
            _ => null,
        };
    }

    // The detector, and the reference image when it is a template-difference detector (for the classifiers).
    private static (IRoiDetector Detector, Image? Reference) BuildDetector(Reader r, JsonElement d)
    {
        string type = r.String(d, "detector.type");
        switch (type)
        {
            case "template-matching":
            {
                r.OnlyKnown(d, "detector", "type", "template", "example_image", "example_box", "score_threshold", "rotations", "label", "max_matches");
                TemplateMatchingOptions options = new()
                {
                    ScoreThreshold = (float)r.Number(d, "detector.score_threshold", 0.6, -1, 1),
                    RotationsDegrees = r.Numbers(d, "detector.rotations"),
                    Label = r.OptionalString(d, "detector.label") ?? "match",
                    MaxMatches = (int)r.Number(d, "detector.max_matches", 10_000, 1, int.MaxValue),
                };
                if (r.OptionalString(d, "detector.template") is { } template)
                {
                    using Image image = r.Image(template, "detector.template", MaxTemplatePixels);
                    return (new TemplateMatchingRoiDetector(image, options), null);
                }

                using Image example = r.Image(r.String(d, "detector.example_image"), "detector.example_image");
                double[] box = [.. r.Numbers(d, "detector.example_box")];
                if (box.Length != 4)
                {
                    throw r.Error("detector.example_box", "must be [x, y, width, height]");
                }

                Rectangle rect = new((int)box[0], (int)box[1], (int)box[2], (int)box[3]);
                if (rect.IsEmpty || !example.Bounds.Contains(rect))
                {
                    throw r.Error("detector.example_box", $"{rect} is empty or outside the {example.Width}x{example.Height} example image");
                }

                return (TemplateMatchingRoiDetector.FromExample(example, rect, options), null);
            }

            case "sliding-window":
                r.OnlyKnown(d, "detector", "type", "tile_width", "tile_height", "overlap", "label", "max_tiles");
                return (new SlidingWindowRoiDetector(new SlidingWindowOptions
                {
                    TileWidth = (int)r.Number(d, "detector.tile_width", 256, 8, 1 << 16),
                    TileHeight = (int)r.Number(d, "detector.tile_height", 256, 8, 1 << 16),
                    Overlap = r.Number(d, "detector.overlap", 0.25, 0, 0.9),
                    Label = r.OptionalString(d, "detector.label") ?? "tile",
                    MaxTiles = (int)r.Number(d, "detector.max_tiles", 100_000, 1, 10_000_000),
                }), null);

            case "whole-image":
                r.OnlyKnown(d, "detector", "type", "label");
                return (new WholeImageRoiDetector(r.OptionalString(d, "detector.label") ?? "image"), null);

            case "onnx-detector":
            {
                r.OnlyKnown(d, "detector", "type", "model", "layout", "input_size", "score_threshold", "nms_iou", "class_names", "keep_classes", "threads");
                string layoutName = r.OptionalString(d, "detector.layout") ?? "yolox-raw";
                DetectionOutputLayout layout = layoutName switch
                {
                    "yolox-raw" => DetectionOutputLayout.YoloxRaw,
                    "yolov5" => DetectionOutputLayout.YoloV5,
                    "yolov8" => DetectionOutputLayout.YoloV8,
                    "boxes-scores" => DetectionOutputLayout.BoxesAndScores,
                    _ => throw r.Error("detector.layout", $"unknown layout '{layoutName}' (use yolox-raw, yolov5, yolov8 or boxes-scores)"),
                };
                int size = (int)r.Number(d, "detector.input_size", 416, 32, 4096);
                string model = r.File(r.String(d, "detector.model"), "detector.model");
                return (new OnnxDetectorRoiDetector(model, new OnnxDetectorOptions
                {
                    // Each decoder's own input: YOLOX takes BGR 0-255 letterboxed at the top left, Ultralytics' YOLOv5/v8
                    // exports RGB 0-1 letterboxed at the centre.
                    Input = layout is DetectionOutputLayout.YoloV5 or DetectionOutputLayout.YoloV8
                        ? Imaging.Processing.TensorLayoutOptions.Ultralytics(size)
                        : Imaging.Processing.TensorLayoutOptions.Yolox(size),
                    Layout = layout,
                    ScoreThreshold = (float)r.Number(d, "detector.score_threshold", 0.3, 0, 1),
                    NmsIou = (float)r.Number(d, "detector.nms_iou", 0.45, 0, 1),
                    ClassNames = r.Strings(d, "detector.class_names"),
                    KeepClasses = r.Strings(d, "detector.keep_classes"),
                    Threads = (int)r.Number(d, "detector.threads", Environment.ProcessorCount, 1, 256),
                }), null);
            }

            case "template-difference":
            {
                r.OnlyKnown(d, "detector", "type", "reference", "tolerance", "difference_threshold", "min_area", "merge_distance", "max_shift", "box_margin", "min_box_size");
                Image reference = r.Image(r.String(d, "detector.reference"), "detector.reference");
                return (new TemplateDifferenceRoiDetector(reference, new TemplateDifferenceOptions
                {
                    Tolerance = (int)r.Number(d, "detector.tolerance", 1, 0, 8),
                    DifferenceThreshold = (int)r.Number(d, "detector.difference_threshold", 64, 1, 255),
                    MinArea = (int)r.Number(d, "detector.min_area", 8, 1, int.MaxValue),
                    MergeDistance = (int)r.Number(d, "detector.merge_distance", 6, 0, 1000),
                    MaxShift = (int)r.Number(d, "detector.max_shift", 4, 0, 64),
                    BoxMargin = (int)r.Number(d, "detector.box_margin", 2, 0, 1000),
                    MinBoxSize = (int)r.Number(d, "detector.min_box_size", 0, 0, 4096),
                }), reference);
            }

            default:
                throw r.Error("detector.type", $"unknown detector type '{type}' (use template-matching, sliding-window, whole-image, onnx-detector or template-difference)");
        }
    }

    private static (ICropClassifier?, Dictionary<string, ICropClassifier>) BuildClassifiers(Reader r, JsonElement c, Image? reference, List<IDisposable> owned, double? threshold)
    {
        ICropClassifier? fallback = null;
        Dictionary<string, ICropClassifier> byLabel = new(StringComparer.Ordinal);
        foreach (JsonProperty p in c.EnumerateObject())
        {
            string field = $"classifiers.{p.Name}";
            string? modelPath, backbonePath = null;
            if (p.Value.ValueKind == JsonValueKind.String)
            {
                modelPath = p.Value.GetString();
            }
            else if (p.Value.ValueKind == JsonValueKind.Object)
            {
                r.OnlyKnown(p.Value, field, "model", "backbone");
                modelPath = r.String(p.Value, $"{field}.model");
                backbonePath = r.OptionalString(p.Value, $"{field}.backbone") is { } b ? r.File(b, $"{field}.backbone") : null;
            }
            else
            {
                throw r.Error(field, "must be the path of a .ddmodel file, or { \"model\": ..., \"backbone\": ... }");
            }

            string path = r.File(modelPath!, field);
            ICropClassifier classifier = LoadClassifier(r, path, backbonePath, field, reference, owned, threshold);
            if (p.Name == "default")
            {
                fallback = classifier;
            }
            else
            {
                byLabel[p.Name] = classifier;
            }
        }

        if (fallback is null && byLabel.Count == 0)
        {
            throw r.Error("classifiers", "names no model (give at least \"default\": \"model.ddmodel\")");
        }

        return (fallback, byLabel);
    }

    // Any model file, through the one loader; a template-difference classifier is bound to the detector's golden image.
    private static ICropClassifier LoadClassifier(Reader r, string path, string? backbone, string field, Image? reference, List<IDisposable> owned, double? threshold)
    {
        IDefectModel model;
        try
        {
            model = DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = backbone });
        }
        catch (ModelFileException ex)
        {
            throw r.Error(field, ex.Message, ex);
        }

        owned.Add(model);
        if (threshold is { } t)
        {
            try
            {
                model = model.WithThreshold(t);
                owned.Add(model);
            }
            catch (Exception ex) when (ex is ArgumentOutOfRangeException or InvalidOperationException)
            {
                throw r.Error(field, $"threshold {t}: {ex.Message.Split(Environment.NewLine)[0]}", ex);
            }
        }

        if (model is TemplateDifferenceCropClassifier templateDifference)
        {
            return reference is null
                ? throw r.Error(field, "a template-difference classifier needs the reference image of a \"template-difference\" detector")
                : templateDifference.WithReference(reference.View());
        }

        return model.AsCropClassifier();
    }

    private static DefectPipelineOptions BuildOptions(Reader r, JsonElement o)
    {
        r.OnlyKnown(o, "options", "context_margin", "batch_size", "max_parallelism", "merge_overlapping_defects", "duplicate_suppression_distance");
        return new DefectPipelineOptions
        {
            ContextMargin = (int)r.Number(o, "options.context_margin", 0, 0, 10_000),
            BatchSize = (int)r.Number(o, "options.batch_size", 64, 1, 100_000),
            MaxDegreeOfParallelism = (int)r.Number(o, "options.max_parallelism", Environment.ProcessorCount, 1, 1024),
            MergeOverlappingDefects = r.Bool(o, "options.merge_overlapping_defects", false),
            DuplicateSuppressionDistance = (int)r.Number(o, "options.duplicate_suppression_distance", 0, 0, 10_000),
        };
    }

    /// <summary>Typed reads of fields with errors that name them.</summary>
    private sealed class Reader(string file, string directory)
    {
        public PipelineFileException Error(string field, string reason, Exception? inner = null) => new(file, field, reason, inner);

        public void OnlyKnown(JsonElement e, string prefix, params string[] known)
        {
            foreach (JsonProperty p in e.EnumerateObject())
            {
                if (!known.Contains(p.Name))
                {
                    string field = prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}";
                    throw Error(field, $"unknown field (known: {string.Join(", ", known)})");
                }
            }
        }

        public JsonElement Object(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Object ? v : throw Error(name, "missing or not an object");

        private static string Leaf(string field) => field[(field.LastIndexOf('.') + 1)..];

        public string String(JsonElement parent, string field) =>
            OptionalString(parent, field) ?? throw Error(field, "missing (a string is required)");

        public string? OptionalString(JsonElement parent, string field)
        {
            if (!parent.TryGetProperty(Leaf(field), out JsonElement v))
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(field, "must be a string");
        }

        public double Number(JsonElement parent, string field, double fallback, double min, double max)
        {
            if (!parent.TryGetProperty(Leaf(field), out JsonElement v))
            {
                return fallback;
            }

            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x) || x < min || x > max)
            {
                throw Error(field, string.Create(CultureInfo.InvariantCulture, $"must be a number in [{min}, {max}], got {v.GetRawText()}"));
            }

            return x;
        }

        public bool Bool(JsonElement parent, string field, bool fallback) =>
            !parent.TryGetProperty(Leaf(field), out JsonElement v) ? fallback
            : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
            : throw Error(field, "must be true or false");

        public IReadOnlyList<double> Numbers(JsonElement parent, string field)
        {
            if (!parent.TryGetProperty(Leaf(field), out JsonElement v))
            {
                return [];
            }

            if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            {
                throw Error(field, "must be an array of numbers");
            }

            return [.. v.EnumerateArray().Select(x => x.GetDouble())];
        }

        public IReadOnlyList<string> Strings(JsonElement parent, string field)
        {
            if (!parent.TryGetProperty(Leaf(field), out JsonElement v))
            {
                return [];
            }

            if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
            {
                throw Error(field, "must be an array of strings");
            }

            return [.. v.EnumerateArray().Select(x => x.GetString()!)];
        }

        public string File(string relative, string field)
        {
            string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, relative));
            return System.IO.File.Exists(path) ? path : throw Error(field, $"file not found: {path}");
        }

        public Image Image(string relative, string field, long maxPixels = long.MaxValue)
        {
            string path = File(relative, field);
            try
            {
                ImageInfo info = ImageCodecs.Identify(path);
                if ((long)info.Width * info.Height > maxPixels)
                {
                    throw Error(field, $"{path} is {info.Width}x{info.Height}; a template may have at most {maxPixels:N0} pixels (cut it to the pattern)");
                }

                return ImageCodecs.Load(path);
            }
            catch (InvalidImageContentException ex)
            {
                throw Error(field, ex.Message, ex);
            }
        }
    }
}

/// <summary>The detector and options of a pipeline file, without its classifiers (see <see cref="PipelineFile.LoadDetector"/>).</summary>
public sealed class PipelineDetector : IDisposable
{
    private readonly List<IDisposable> _owned;

    internal PipelineDetector(IRoiDetector detector, DefectPipelineOptions options, List<IDisposable> owned)
    {
        Detector = detector;
        Options = options;
        _owned = owned;
    }

    /// <summary>Stage 1 of the pipeline.</summary>
    public IRoiDetector Detector { get; }

    /// <summary>The pipeline's options (its context margin says how crops are cut).</summary>
    public DefectPipelineOptions Options { get; }

    /// <inheritdoc />
    public void Dispose() => _owned.ForEach(d => d.Dispose());
}

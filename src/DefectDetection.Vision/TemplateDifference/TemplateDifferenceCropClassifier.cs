using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;

namespace DefectDetection.Vision.TemplateDifference;

/// <summary>The model that <see cref="TemplateDifferenceClassifierTrainer"/> fits on the candidate features.</summary>
public enum TemplateDifferenceModel
{
    /// <summary>A random forest (64 trees): learns the interplay of the features (sign, shape, topology); the default.</summary>
    Forest,

    /// <summary>The linear softmax head (<see cref="SoftmaxClassifierTrainer"/>).</summary>
    Softmax,
}

/// <summary>Options of <see cref="TemplateDifferenceClassifierTrainer"/> and the classifier it trains.</summary>
public sealed class TemplateDifferenceClassifierOptions
{
    /// <summary>Pixels of context added around each candidate region before it is described. Default: 4.</summary>
    public int Context { get; init; } = 4;

    /// <summary>
    /// Positional tolerance in pixels when comparing image and reference (as
    /// <see cref="Roi.TemplateDifferenceOptions.Tolerance"/>). Default: 2.
    /// </summary>
    public int Tolerance { get; init; } = 2;

    /// <summary>
    /// Largest shift (pixels, each axis) searched when aligning the image to the reference (as
    /// <see cref="Roi.TemplateDifferenceOptions.MaxShift"/>; the shift the detector found for the same image is reused).
    /// Default: 4.
    /// </summary>
    public int MaxShift { get; init; } = 4;

    /// <summary>Grey level (1-255) below which a pixel counts as dark (copper on a binarised PCB scan). Default: 128.</summary>
    public int DarkThreshold { get; init; } = 128;

    /// <summary>The label of candidates that are no defect (alignment and scanning noise). Default: "noise".</summary>
    public string NoDefectLabel { get; init; } = "noise";

    /// <summary>The model fitted on the features. Default: <see cref="TemplateDifferenceModel.Forest"/>.</summary>
    public TemplateDifferenceModel Model { get; init; } = TemplateDifferenceModel.Forest;

    /// <summary>
    /// Trains also on the seven rotated and mirrored copies of every candidate, so that the classifier does not
    /// depend on the orientation of the traces. Default: true.
    /// </summary>
    public bool Augment { get; init; } = true;

    /// <summary>Trees of the forest. Default: 64.</summary>
    public int Trees { get; init; } = 64;

    /// <summary>Seed of the forest's bagging and feature sampling. Default: 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Options of the softmax head (when <see cref="Model"/> is <see cref="TemplateDifferenceModel.Softmax"/>). Default: unweighted classes, 300 iterations.</summary>
    public SoftmaxClassifierOptions Head { get; init; } = new() { ClassWeighting = ClassWeighting.None, MaxIterations = 300 };

    /// <summary>
    /// The detector that finds candidate regions in the training pairs given as a dataset, and in whole images judged
    /// with <see cref="TemplateDifferenceCropClassifier.Predict(ImageView, CancellationToken)"/> (stored in the model file).
    /// </summary>
    public Roi.TemplateDifferenceOptions Detector { get; init; } = new();

    internal void Validate()
    {
        if (Context is < 0 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(Context), $"Context must be in [0, 64], got {Context}.");
        }

        if (Tolerance is < 0 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), $"Tolerance must be in [0, 8], got {Tolerance}.");
        }

        if (MaxShift is < 0 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxShift), $"MaxShift must be in [0, 64], got {MaxShift}.");
        }

        if (DarkThreshold is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(DarkThreshold), $"DarkThreshold must be in [1, 255], got {DarkThreshold}.");
        }

        if (string.IsNullOrEmpty(NoDefectLabel))
        {
            throw new ArgumentException("NoDefectLabel must not be empty.", nameof(NoDefectLabel));
        }

        ArgumentNullException.ThrowIfNull(Head, nameof(Head));
        ArgumentNullException.ThrowIfNull(Detector, nameof(Detector));
        Detector.Validate();
        if (Trees is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(Trees), $"Trees must be in [1, 4096], got {Trees}.");
        }
    }
}

/// <summary>
/// Names the defect type of a candidate region found by <see cref="Roi.TemplateDifferenceRoiDetector"/>, or rejects
/// it as noise, by looking at the image and the golden reference together: what changed (dark added or removed),
/// the shape of the change, and whether it joins or splits dark and light regions (on a PCB: short or open, spur or
/// spurious copper, mousebite or pin-hole). Built by <see cref="TemplateDifferenceClassifierTrainer"/>.
/// <para>
/// In a <see cref="DefectPipeline"/> it must know the reference (<see cref="WithReference"/>); as an
/// <see cref="IRegionCropClassifier"/> it receives the inspected image and the regions, and cuts the same places from
/// the image and the reference itself (called as a plain <see cref="ICropClassifier"/>, its crops must be views of the
/// inspected image). Thread-safe.
/// </para>
/// </summary>
public sealed class TemplateDifferenceCropClassifier : IDefectModel, IRegionCropClassifier
{
    /// <summary>The task name in the manifest of this classifier's model files.</summary>
    internal const string TaskName = "template_difference_classification";

    // Extra context of the second, wider topology window.
    private const int WideContext = 12;

    private const string ForestPrefix = "forest/";
    private const string ModelManifestEntry = "manifest.json";
    private const string ReferenceTensor = "reference";

    private readonly SoftmaxClassifierModel? _head;
    private readonly DecisionForest? _forest;
    private readonly TemplateDifferenceClassifierOptions _options;
    private readonly int _noDefect;
    private readonly ImageView? _reference;
    private readonly SharedResource<Image>? _ownedReference;
    private readonly IReadOnlyDictionary<string, int> _boxSizes;
    private int _disposed;

    internal TemplateDifferenceCropClassifier(SoftmaxClassifierModel? head, DecisionForest? forest, TemplateDifferenceClassifierOptions options, ImageView? reference, IReadOnlyDictionary<string, int>? boxSizes = null,
        double threshold = 0.5, SharedResource<Image>? ownedReference = null)
    {
        Threshold = threshold;
        _ownedReference = ownedReference;
        _boxSizes = boxSizes ?? new Dictionary<string, int>(StringComparer.Ordinal);
        _head = head;
        _forest = forest;
        _options = options;
        _reference = reference;
        Labels = head?.Labels ?? forest?.Labels ?? throw new ArgumentNullException(nameof(head));
        int length = head?.FeatureLength ?? forest!.FeatureLength;
        if (length != TemplateDifferenceFeatures.Length)
        {
            throw new ArgumentException($"The model expects {length} features; this classifier gives {TemplateDifferenceFeatures.Length}.", nameof(head));
        }

        _noDefect = -1;
        for (int i = 0; i < Labels.Count; i++)
        {
            if (string.Equals(Labels[i], options.NoDefectLabel, StringComparison.Ordinal))
            {
                _noDefect = i;
            }
        }
    }

    /// <inheritdoc />
    public CropSize? InputSize => null;

    /// <summary>The labels: the defect types and <see cref="TemplateDifferenceClassifierOptions.NoDefectLabel"/>.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <inheritdoc />
    public string Learner => Learners.TemplateDifference;

    /// <inheritdoc />
    public DefectTask Task => DefectTask.RegionClassification;

    /// <inheritdoc />
    public IReadOnlyList<string> NormalLabels => [_options.NoDefectLabel];

    /// <summary>
    /// The threshold on a candidate's P(defect) = 1 - P(<see cref="TemplateDifferenceClassifierOptions.NoDefectLabel"/>)
    /// (default 0.5); <see cref="DefectPrediction.Score"/> of a whole image is its most defective candidate's.
    /// </summary>
    public double Threshold { get; }

    /// <inheritdoc />
    double? IDefectModel.Threshold => Threshold;

    /// <summary>
    /// The typical size (pixels, square side) of an annotated box of each defect type, learnt from the training boxes
    /// (their median): each defect verdict carries in <see cref="CropVerdict.LocalizedDefects"/> the candidate's box
    /// grown about its centre to this size, in crop coordinates (it may reach past the crop).
    /// </summary>
    public IReadOnlyDictionary<string, int> BoxSizes => _boxSizes;

    /// <summary>
    /// The same classifier bound to a reference image (cheap: the model is shared), for use as an
    /// <see cref="ICropClassifier"/>.
    /// </summary>
    /// <param name="reference">The golden image; keep it alive while the classifier is used.</param>
    public TemplateDifferenceCropClassifier WithReference(ImageView reference) => new(_head, _forest, _options, reference, _boxSizes, Threshold);

    /// <summary>The golden template bound to the classifier (given to <see cref="WithReference"/>, learnt when every training pair shares one, or read from the model file), or null.</summary>
    public ImageView? Reference => _reference;

    /// <inheritdoc />
    public IDefectModel WithThreshold(double threshold) =>
        new TemplateDifferenceCropClassifier(_head, _forest, _options, _reference, _boxSizes, ModelContract.ProbabilityThreshold(threshold), _ownedReference?.Acquire());

    /// <inheritdoc />
    public ICropClassifier AsCropClassifier() => this;

    /// <summary>
    /// Judges a whole image against the bound reference (<see cref="WithReference"/>): the detector of
    /// <see cref="TemplateDifferenceClassifierOptions.Detector"/> finds where they differ, each candidate is judged,
    /// and the defects are located in image coordinates.
    /// </summary>
    /// <exception cref="InvalidOperationException">No reference is bound.</exception>
    /// <exception cref="ArgumentException">The image and the reference differ in size.</exception>
    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default)
    {
        if (_reference is not { } reference)
        {
            throw new InvalidOperationException("This template-difference model has no reference image: bind the golden template with WithReference(reference) (CLI: --reference).");
        }

        if (image.Width != reference.Width || image.Height != reference.Height)
        {
            throw new ArgumentException($"The image is {image.Width}x{image.Height} but the reference is {reference.Width}x{reference.Height}; a template comparison needs both the same size.", nameof(image));
        }

        IReadOnlyList<RegionOfInterest> candidates = new Roi.TemplateDifferenceRoiDetector(null, _options.Detector).Detect(image, reference, cancellationToken);
        Rectangle[] boxes = [.. candidates.Select(c => c.Box)];
        IReadOnlyList<CropVerdict> verdicts = Classify(image, boxes, BorderMode.Replicate, cancellationToken);
        List<Defect> defects = [];
        double score = 0;
        for (int i = 0; i < verdicts.Count; i++)
        {
            CropVerdict v = verdicts[i];
            score = Math.Max(score, v.Score);
            if (!v.IsDefect)
            {
                continue;
            }

            if (v.LocalizedDefects is { Count: > 0 } located)
            {
                defects.AddRange(located.Select(d => d with { Box = new Rectangle(d.Box.X + boxes[i].X, d.Box.Y + boxes[i].Y, d.Box.Width, d.Box.Height) }));
            }
            else
            {
                defects.Add(new Defect(boxes[i], v.Label, v.Confidence));
            }
        }

        defects.Sort((a, b) => b.Confidence.CompareTo(a.Confidence));
        Dictionary<string, float> labelScores = Labels.ToDictionary(l => l, _ => 0f, StringComparer.Ordinal);
        labelScores[_options.NoDefectLabel] = (float)(1 - score);
        if (defects.Count > 0)
        {
            labelScores[defects[0].Label] = (float)score;
        }

        return new DefectPrediction
        {
            ImageWidth = image.Width,
            ImageHeight = image.Height,
            IsDefect = defects.Count > 0,
            Label = defects.Count > 0 ? defects[0].Label : _options.NoDefectLabel,
            LabelScores = labelScores,
            Score = score,
            Threshold = Threshold,
            Confidence = ModelContract.Calibrate(score, Threshold),
            Defects = defects,
        };
    }

    /// <inheritdoc />
    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return images.Select(i => Predict(i, cancellationToken)).ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ownedReference?.Release();
        }
    }

    /// <summary>The same classifier owning <paramref name="reference"/> as its golden template (disposed with it).</summary>
    internal TemplateDifferenceCropClassifier Owning(Image reference) =>
        new(_head, _forest, _options, reference.View(), _boxSizes, Threshold, new SharedResource<Image>(reference));

    /// <summary>Judges the region <paramref name="box"/> of <paramref name="image"/> against <paramref name="reference"/>.</summary>
    /// <exception cref="ArgumentException">The images differ in size or the box misses the image.</exception>
    public CropVerdict Classify(ImageView image, ImageView reference, Rectangle box)
    {
        float[] features = new float[TemplateDifferenceFeatures.Length];
        float[] probabilities = new float[Labels.Count];
        return Judge(image, reference, box, features, probabilities);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">No reference is bound, or a crop is not a view of an image of the reference's size.</exception>
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crops);
        if (_reference is not { } reference)
        {
            throw new InvalidOperationException("This classifier has no reference image: bind one with WithReference(reference).");
        }

        CropVerdict[] verdicts = new CropVerdict[crops.Count];
        float[] features = new float[TemplateDifferenceFeatures.Length];
        float[] probabilities = new float[Labels.Count];
        for (int i = 0; i < crops.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ImageView crop = crops[i];
            Image source = crop.Source;
            if (source.Width != reference.Width || source.Height != reference.Height)
            {
                throw new InvalidOperationException(
                    $"Crop {i} comes from a {source.Width}x{source.Height} image but the reference is {reference.Width}x{reference.Height}: " +
                    "the classifier needs crops that are views of the inspected image (pipeline ContextMargin 0, no resizing, boxes inside the image).");
            }

            verdicts[i] = Judge(source.View(), reference, crop.Region, features, probabilities);
        }

        return verdicts;
    }

    /// <inheritdoc />
    /// <remarks>Regions are clipped to the image (the border mode is not needed); a region wholly outside it is no defect.</remarks>
    /// <exception cref="InvalidOperationException">No reference is bound.</exception>
    public IReadOnlyList<CropVerdict> Classify(ImageView image, IReadOnlyList<Rectangle> regions, BorderMode border, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(regions);
        if (_reference is not { } reference)
        {
            throw new InvalidOperationException("This classifier has no reference image: bind one with WithReference(reference).");
        }

        CropVerdict[] verdicts = new CropVerdict[regions.Count];
        float[] features = new float[TemplateDifferenceFeatures.Length];
        float[] probabilities = new float[Labels.Count];
        Rectangle bounds = new(0, 0, image.Width, image.Height);
        for (int i = 0; i < regions.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Rectangle box = Rectangle.Intersect(regions[i], bounds);
            verdicts[i] = box.IsEmpty
                ? new CropVerdict(_options.NoDefectLabel, false, 0, 1)
                : Offset(Judge(image, reference, box, features, probabilities), box.X - regions[i].X, box.Y - regions[i].Y);
        }

        return verdicts;
    }

    /// <summary>
    /// Saves the classifier as a <c>.ddmodel</c> file (written to a temporary file, then renamed): the options, labels
    /// and box sizes in the manifest, the forest (<c>forest/*</c>) or softmax head (<c>head/*</c>) as tensors. The
    /// reference image is not saved: bind it again after <see cref="Load"/> with <see cref="WithReference"/>.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Save options (by default an existing file is not replaced). A bound golden template is stored too (tensor <c>reference</c>, height x width x channels).</param>
    /// <exception cref="IOException">The file exists and <see cref="DefectModelSaveOptions.Overwrite"/> is false, or cannot be written.</exception>
    /// <exception cref="NotSupportedException">The forest is too large for the file format (more than 2^24 nodes).</exception>
    public void Save(string path, DefectModelSaveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ToPackage(options).Save(path, new ModelSaveOptions { Overwrite = options?.Overwrite ?? false });
    }

    /// <inheritdoc />
    public void Save(Stream stream, DefectModelSaveOptions? options = null) => ToPackage(options).Save(stream);

    // The model as a package: manifest, tensors and (when embedded) the backbone.
    private ModelPackage ToPackage(DefectModelSaveOptions? options)
    {
        TemplateDifferenceClassifierOptions o = _options;
        var section = new TemplateDifferenceSection
        {
            Model = _forest is not null ? "forest" : "softmax",
            FeatureLength = TemplateDifferenceFeatures.Length,
            Context = o.Context,
            Tolerance = o.Tolerance,
            MaxShift = o.MaxShift,
            DarkThreshold = o.DarkThreshold,
            NoDefectLabel = o.NoDefectLabel,
            Augment = o.Augment,
            Trees = o.Trees,
            Seed = o.Seed,
            Detector = new TemplateDetectorInfo
            {
                MaxShift = o.Detector.MaxShift,
                Tolerance = o.Detector.Tolerance,
                DifferenceThreshold = o.Detector.DifferenceThreshold,
                MinArea = o.Detector.MinArea,
                MergeDistance = o.Detector.MergeDistance,
                BoxMargin = o.Detector.BoxMargin,
                MinBoxSize = o.Detector.MinBoxSize,
            },
            BoxSizes = new Dictionary<string, int>(_boxSizes, StringComparer.Ordinal),
        };
        ModelManifest manifest = new() { Task = TaskName, Learner = Learners.TemplateDifference, Labels = [.. Labels], Threshold = Threshold, TemplateDifference = section };
        Dictionary<string, ModelTensor> tensors = new(_forest is not null ? _forest.ToTensors(ForestPrefix) : _head!.ToTensors(), StringComparer.Ordinal);
        if (_reference is { } golden)
        {
            float[] pixels = new float[golden.Width * golden.Height * golden.Channels];
            for (int y = 0; y < golden.Height; y++)
            {
                ReadOnlySpan<byte> row = golden.GetRow(y);
                for (int i = 0; i < row.Length; i++)
                {
                    pixels[(y * row.Length) + i] = row[i];
                }
            }

            tensors[ReferenceTensor] = new ModelTensor([golden.Height, golden.Width, golden.Channels], pixels);
        }

        return new ModelPackage(manifest, tensors);
    }

    /// <summary>Loads a classifier written by <see cref="Save(string, DefectModelSaveOptions?)"/> (with no reference bound; through <see cref="DefectModel.Load(string, DefectModelLoadOptions?)"/>).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="ModelFileException">
    /// The file is missing, corrupt or truncated, not a template-difference classifier, or a property or tensor is
    /// missing or malformed (the message names it).
    /// </exception>
    internal static TemplateDifferenceCropClassifier Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        ModelPackage package = ModelPackage.Load(full);
        ModelManifest m = package.Manifest;
        if (m.Task != TaskName)
        {
            throw new ModelFileException(full, ModelManifestEntry, $"task: the model is a '{m.Task}' model, not a template-difference classifier ('{TaskName}')");
        }

        TemplateDifferenceSection p = m.TemplateDifference ?? throw new ModelFileException(full, ModelManifestEntry, "$.template_difference", "missing");
        if (p.FeatureLength != TemplateDifferenceFeatures.Length)
        {
            throw new ModelFileException(full, ModelManifestEntry, "$.template_difference.feature_length", $"the model takes {p.FeatureLength} features; this library computes {TemplateDifferenceFeatures.Length}");
        }

        TemplateDetectorInfo d = p.Detector;
        TemplateDifferenceClassifierOptions options = new()
        {
            Context = Range("context", p.Context, 0, 64),
            Tolerance = Range("tolerance", p.Tolerance, 0, 8),
            MaxShift = Range("max_shift", p.MaxShift, 0, 64),
            DarkThreshold = Range("dark_threshold", p.DarkThreshold, 1, 255),
            NoDefectLabel = p.NoDefectLabel,
            Augment = p.Augment,
            Trees = Range("trees", p.Trees, 1, 4096),
            Seed = p.Seed,
            Model = p.Model switch
            {
                "forest" => TemplateDifferenceModel.Forest,
                "softmax" => TemplateDifferenceModel.Softmax,
                _ => throw new ModelFileException(full, ModelManifestEntry, "$.template_difference.model", $"'{p.Model}' is not forest or softmax"),
            },
            Detector = new Roi.TemplateDifferenceOptions
            {
                MaxShift = Range("detector.max_shift", d.MaxShift, 0, 64),
                Tolerance = Range("detector.tolerance", d.Tolerance, 0, 8),
                DifferenceThreshold = Range("detector.difference_threshold", d.DifferenceThreshold, 1, 255),
                MinArea = Range("detector.min_area", d.MinArea, 1, 1 << 24),
                MergeDistance = Range("detector.merge_distance", d.MergeDistance, 0, 1 << 16),
                BoxMargin = Range("detector.box_margin", d.BoxMargin, 0, 1 << 16),
                MinBoxSize = Range("detector.min_box_size", d.MinBoxSize, 0, 4096),
            },
        };
        double threshold = m.Threshold ?? 0.5;
        if (!(threshold > 0 && threshold < 1))
        {
            throw new ModelFileException(full, ModelManifestEntry, $"threshold: {threshold} is not a probability in (0, 1)");
        }
        if (options.NoDefectLabel.Length == 0)
        {
            throw new ModelFileException(full, ModelManifestEntry, "$.template_difference.no_defect_label", "is empty");
        }

        Dictionary<string, int> boxSizes = new(StringComparer.Ordinal);
        foreach ((string label, int size) in p.BoxSizes)
        {
            boxSizes[label] = Range("box_sizes", size, 0, 1 << 16);
        }

        try
        {
            TemplateDifferenceCropClassifier classifier = options.Model == TemplateDifferenceModel.Forest
                ? new TemplateDifferenceCropClassifier(null, DecisionForest.FromTensors(m.Labels, p.FeatureLength, package.Tensors, ForestPrefix), options, null, boxSizes, threshold)
                : new TemplateDifferenceCropClassifier(SoftmaxClassifierModel.FromTensors(m.Labels, package.Tensors), null, options, null, boxSizes, threshold);
            return package.Tensors.TryGetValue(ReferenceTensor, out ModelTensor? golden) ? classifier.Owning(ReadReference(full, golden)) : classifier;
        }
        catch (InvalidDataException e)
        {
            string? entry = e.Data["tensor"] is string t ? "tensors/" + t + ".f32" : ModelManifestEntry;
            throw new ModelFileException(full, entry, e.Message, e);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(full, ModelManifestEntry, e.Message, e);
        }

        int Range(string key, int v, int min, int max) =>
            v >= min && v <= max ? v : throw new ModelFileException(full, ModelManifestEntry, "$.template_difference." + key, $"{v} is not in [{min}, {max}]");
    }

    // The stored golden template: [height, width, 1, 3 or 4] whole values 0..255.
    private static Image ReadReference(string path, ModelTensor t)
    {
        if (t.Shape.Count != 3 || t.Shape[0] < 1 || t.Shape[1] < 1 || t.Shape[2] is not (1 or 3 or 4) || (long)t.Shape[0] * t.Shape[1] > 1L << 28)
        {
            throw new ModelFileException(path, "tensors/" + ReferenceTensor + ".f32", $"shape [{string.Join(", ", t.Shape)}]: expected [height, width, 1, 3 or 4 channels]");
        }

        Image image = Image.Create(t.Shape[1], t.Shape[0], t.Shape[2] switch { 1 => PixelFormat.Gray8, 3 => PixelFormat.Rgb24, _ => PixelFormat.Rgba32 });
        Span<byte> pixels = image.Pixels;
        for (int i = 0; i < pixels.Length; i++)
        {
            float v = t.Data[i];
            if (!(v >= 0 && v <= 255) || v != MathF.Floor(v))
            {
                image.Dispose();
                throw new ModelFileException(path, "tensors/" + ReferenceTensor + ".f32", $"value {v} at index {i} is not a pixel value 0..255");
            }

            pixels[i] = (byte)v;
        }

        return image;
    }

    /// <summary>Computes the features of one region (for training and inspection).</summary>
    internal static void Describe(ImageView image, ImageView reference, Rectangle box, TemplateDifferenceClassifierOptions options, Span<float> features)
    {
        if (image.Width != reference.Width || image.Height != reference.Height)
        {
            throw new ArgumentException($"The image ({image.Width}x{image.Height}) and the reference ({reference.Width}x{reference.Height}) differ in size.", nameof(reference));
        }

        (int X, int Y) shift = ReferenceAlignment.Get(image, reference, options.MaxShift);
        Rectangle bounds = new(0, 0, image.Width, image.Height);
        Rectangle common = Rectangle.Intersect(bounds, new Rectangle(-shift.X, -shift.Y, image.Width, image.Height));
        Rectangle window = Rectangle.Intersect(box.Inflate(options.Context), common);
        if (window.IsEmpty)
        {
            throw new ArgumentException($"The region {box} lies outside the {image.Width}x{image.Height} image.", nameof(box));
        }

        Rectangle wide = Rectangle.Intersect(box.Inflate(options.Context + WideContext), common);
        TemplateDifferenceFeatures.Extract(image, reference, window, wide, shift, options.Tolerance, options.DarkThreshold, features);
    }

    // Moves the verdict's defect boxes from the clipped region's coordinates into the requested region's.
    private static CropVerdict Offset(CropVerdict verdict, int dx, int dy) =>
        (dx, dy) == (0, 0) || verdict.LocalizedDefects is null
            ? verdict
            : verdict with
            {
                LocalizedDefects = [.. verdict.LocalizedDefects.Select(d => d with { Box = new Rectangle(d.Box.X + dx, d.Box.Y + dy, d.Box.Width, d.Box.Height) })],
            };

    private CropVerdict Judge(ImageView image, ImageView reference, Rectangle box, float[] features, float[] probabilities)
    {
        Describe(image, reference, box, _options, features);
        if (_forest is not null)
        {
            _forest.PredictProbabilities(features, probabilities);
        }
        else
        {
            _head!.PredictProbabilities(features, probabilities);
        }

        float noise = _noDefect >= 0 ? probabilities[_noDefect] : 0;
        int best = -1;
        for (int k = 0; k < probabilities.Length; k++)
        {
            if (k != _noDefect && (best < 0 || probabilities[k] > probabilities[best]))
            {
                best = k;
            }
        }

        bool defect = best >= 0 && 1 - noise >= Threshold;
        if (!defect)
        {
            return new CropVerdict(_options.NoDefectLabel, false, ModelContract.Calibrate(Math.Clamp(1 - noise, 0, 1), Threshold), 1 - noise);
        }

        CropVerdict verdict = new(Labels[best], true, ModelContract.Calibrate(Math.Clamp(1 - noise, 0, 1), Threshold), 1 - noise);
        if (_boxSizes.TryGetValue(Labels[best], out int size))
        {
            Rectangle grown = TemplateDifferenceRoiDetector.GrowToMinimum(box, size, image.Width, image.Height);
            Rectangle local = new(grown.X - box.X, grown.Y - box.Y, grown.Width, grown.Height);
            verdict = verdict with { LocalizedDefects = [new Defect(local, verdict.Label, verdict.Confidence)] };
        }

        return verdict;
    }
}

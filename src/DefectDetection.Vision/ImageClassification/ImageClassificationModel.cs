using System.Globalization;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Features;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>
/// A trained image classifier (immutable): a frozen feature extractor plus a softmax head, and for two labels a
/// decision threshold on the positive label. Predicts, evaluates, saves to one <c>.ddmodel</c> file and serves as a
/// pipeline <see cref="ICropClassifier"/>. Thread-safe. Dispose it to release its backbone.
/// </summary>
public sealed class ImageClassificationModel : IDefectModel, ICropClassifier
{
    internal const string TaskName = "classification";
    private const string KindOnnx = "onnx-gap";
    private const string KindWeightFree = "gradient-histogram";
    private const string KindBoth = KindOnnx + "+" + KindWeightFree;
    private readonly SharedResource<IFeatureExtractor> _shared;
    private readonly IFeatureExtractor _extractor;
    private int _disposed;
    private readonly SoftmaxClassifierModel _head;
    private readonly HashSet<string> _normal;
    private readonly byte[]? _backboneBytes;
    private readonly GradientHistogramOptions _weightFree;
    private readonly int _positiveIndex;

    internal ImageClassificationModel(IFeatureExtractor extractor, SoftmaxClassifierModel head, string? positiveLabel, double? threshold, string[] normalLabels,
        TrainingSummary training, byte[]? backboneBytes, GradientHistogramOptions weightFree, DateTimeOffset created)
        : this(new SharedResource<IFeatureExtractor>(extractor), head, positiveLabel, threshold, normalLabels, training, backboneBytes, weightFree, created)
    {
    }

    private ImageClassificationModel(SharedResource<IFeatureExtractor> shared, SoftmaxClassifierModel head, string? positiveLabel, double? threshold, string[] normalLabels,
        TrainingSummary training, byte[]? backboneBytes, GradientHistogramOptions weightFree, DateTimeOffset created)
    {
        _shared = shared;
        _extractor = shared.Value;
        _head = head;
        PositiveLabel = positiveLabel;
        _threshold = positiveLabel is null ? null : Math.Clamp(threshold ?? 0.5, 1e-6, 1 - 1e-6);
        _positiveIndex = positiveLabel is null ? -1 : head.Labels.ToList().IndexOf(positiveLabel);
        NormalLabels = normalLabels;
        _normal = new HashSet<string>(normalLabels, StringComparer.Ordinal);
        Training = training;
        _backboneBytes = backboneBytes;
        _weightFree = weightFree;
        CreatedUtc = created;
    }

    /// <summary>The labels, in ordinal order.</summary>
    public IReadOnlyList<string> Labels => _head.Labels;

    /// <summary>The positive label of a two-label model (its probability is compared with <see cref="Threshold"/>), else null.</summary>
    public string? PositiveLabel { get; }

    /// <inheritdoc />
    public string Learner => Learners.ImageClassifier;

    /// <inheritdoc />
    public DefectTask Task => DefectTask.Classification;

    /// <summary>
    /// The decision threshold on <see cref="DefectPrediction.Score"/>: for two labels on the positive label's
    /// probability; for more labels, some of them normal, on P(defect) = 1 - P(normal labels) when one was chosen
    /// (<see cref="ImageClassificationOptions.ChooseDefectThreshold"/>) or set (<see cref="WithThreshold"/>); else null
    /// (a defect is then a non-normal likeliest label).
    /// </summary>
    public double? Threshold => PositiveLabel is not null ? _threshold : DefectThreshold;

    private readonly double? _threshold;

    internal double? DefectThreshold { get; init; }

    /// <summary>The training images' P(defect) from the cross-validation folds that held them out (not saved; null after loading).</summary>
    internal OutOfFoldScores? OutOfFold { get; init; }

    /// <summary>The backbone's bytes the model was trained with, or null for the weight-free extractor.</summary>
    internal byte[]? BackboneBytes => _backboneBytes;

    /// <summary>The same model (sharing its state) with another search record.</summary>
    internal ImageClassificationModel WithSearch(DefectDetection.ModelFiles.TrainingSearch? search) =>
        new(_shared.Acquire(), _head, PositiveLabel, _threshold, [.. NormalLabels], new TrainingSummary
        {
            ImageCount = Training.ImageCount,
            PerLabel = Training.PerLabel,
            AugmentedCount = Training.AugmentedCount,
            FeatureSeconds = Training.FeatureSeconds,
            HeadSeconds = Training.HeadSeconds,
            CrossValidation = Training.CrossValidation,
            Search = search,
            ThresholdRule = Training.ThresholdRule,
        }, _backboneBytes, _weightFree, CreatedUtc)
        {
            DefectThreshold = DefectThreshold,
            OutOfFold = OutOfFold,
        };

    /// <inheritdoc />
    public IReadOnlyList<string> NormalLabels { get; }

    /// <summary>What the model was trained on, timings and cross-validated metrics.</summary>
    public TrainingSummary Training { get; }

    /// <summary>When the model was trained.</summary>
    public DateTimeOffset CreatedUtc { get; }

    /// <summary>The feature extractor.</summary>
    public IFeatureExtractor Extractor => _extractor;

    /// <summary>The backbone, or null for the weight-free extractor.</summary>
    public OnnxBackbone? Backbone => BackboneExtractor?.Backbone;

    private OnnxFeatureExtractor? BackboneExtractor => _extractor as OnnxFeatureExtractor ?? (_extractor as CombinedFeatureExtractor)?.Onnx;

    /// <inheritdoc />
    public CropSize? InputSize => null;

    /// <inheritdoc />
    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return FromFeatures(_extractor.Extract(image), image.Width, image.Height);
    }

    /// <inheritdoc />
    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        IReadOnlyList<float[]> features = _extractor.ExtractBatch(images, cancellationToken);
        return features.Select((f, i) => FromFeatures(f, images[i].Width, images[i].Height)).ToArray();
    }

    /// <summary>Predicts the labels of image files (features are extracted in batches; each image's size is read from its header).</summary>
    /// <exception cref="InvalidImageContentException">A file is not a readable image (the message names it).</exception>
    public IReadOnlyList<DefectPrediction> PredictFiles(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        FeatureCache cache = new(_extractor);
        IReadOnlyList<float[]> features = cache.GetOrExtract(paths, cancellationToken);
        return features.Select((f, i) =>
        {
            ImageInfo info = ImageCodecs.Identify(paths[i]);
            return FromFeatures(f, info.Width, info.Height);
        }).ToArray();
    }

    /// <inheritdoc />
    public IDefectModel WithThreshold(double threshold)
    {
        double t = ModelContract.ProbabilityThreshold(threshold);
        if (PositiveLabel is null && (!Labels.Any(_normal.Contains) || Labels.All(_normal.Contains)))
        {
            throw new InvalidOperationException($"The model's labels ({string.Join(", ", Labels)}) are not split into normal and defect labels, so there is no P(defect) to threshold.");
        }

        return new ImageClassificationModel(_shared.Acquire(), _head, PositiveLabel, PositiveLabel is null ? null : t, [.. NormalLabels], Training, _backboneBytes, _weightFree, CreatedUtc)
        {
            DefectThreshold = PositiveLabel is null ? t : DefectThreshold,
        };
    }

    /// <inheritdoc />
    public ICropClassifier AsCropClassifier() => this;

    /// <summary>
    /// Evaluates the model on a labelled dataset: accuracy, per-label precision/recall/F1, the confusion matrix, and
    /// for two labels ROC AUC, PR AUC and the metrics at the stored threshold.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset is empty or holds a label the model does not know.</exception>
    public ClassificationMetrics Evaluate(ImageDataset dataset, CancellationToken cancellationToken = default) => EvaluateCore(dataset, out _, cancellationToken);

    private ClassificationMetrics EvaluateCore(ImageDataset dataset, out IReadOnlyList<DefectPrediction> predictions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Count == 0)
        {
            throw new ArgumentException("The dataset has no images.", nameof(dataset));
        }

        string[] unknown = dataset.Select(i => i.Label).Distinct(StringComparer.Ordinal).Where(l => !Labels.Contains(l)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"The dataset holds label(s) the model does not know: {string.Join(", ", unknown)} (model labels: {string.Join(", ", Labels)}).", nameof(dataset));
        }

        predictions = PredictFiles(dataset.Select(i => i.ImagePath).ToArray(), cancellationToken);
        string[] actual = dataset.Select(i => i.Label).ToArray();
        if (PositiveLabel is not null)
        {
            bool[] positives = actual.Select(a => a == PositiveLabel).ToArray();
            double[] scores = predictions.Select(p => (double)p.LabelScores[PositiveLabel!]).ToArray();
            return ClassificationEvaluator.EvaluateBinary(positives, scores, Threshold, PositiveLabel, Labels.First(l => l != PositiveLabel));
        }

        return ClassificationEvaluator.Evaluate(actual, predictions.Select(p => p.Label).ToArray(), Labels);
    }

    /// <summary>
    /// Evaluates defect against normal on a labelled dataset (a label is a defect when it is not one of
    /// <see cref="NormalLabels"/>): scores are P(defect) = 1 - P(normal labels), judged at <see cref="DefectThreshold"/>
    /// (or by the likeliest label when there is none), with ROC and PR AUC. Labels "normal" and "defect".
    /// </summary>
    /// <exception cref="ArgumentException">The dataset is empty, holds an unknown label, or the model has no normal label among its labels.</exception>
    public ClassificationMetrics EvaluateDefects(ImageDataset dataset, CancellationToken cancellationToken = default) =>
        EvaluateBoth(dataset, cancellationToken).Defects ?? throw new ArgumentException("The model has no normal label among its labels, or only normal labels.", nameof(dataset));

    /// <summary>Both <see cref="Evaluate"/> and <see cref="EvaluateDefects"/> (null when not applicable) from one pass over the images.</summary>
    public (ClassificationMetrics Labels, ClassificationMetrics? Defects) EvaluateBoth(ImageDataset dataset, CancellationToken cancellationToken = default)
    {
        ClassificationMetrics labels = EvaluateCore(dataset, out IReadOnlyList<DefectPrediction> predictions, cancellationToken);
        if (!Labels.Any(_normal.Contains) || Labels.All(_normal.Contains))
        {
            return (labels, null);
        }

        bool[] defects = dataset.Select(i => !_normal.Contains(i.Label)).ToArray();
        double[] scores = predictions.Select(p => 1.0 - p.LabelScores.Where(s => _normal.Contains(s.Key)).Sum(s => (double)s.Value)).ToArray();
        if (DefectThreshold is { } threshold)
        {
            return (labels, ClassificationEvaluator.EvaluateBinary(defects, scores, threshold, "defect", "normal"));
        }

        // No stored threshold: the verdicts of the likeliest labels, plus the threshold-free ROC and PR AUC.
        int[][] matrix = [new int[2], new int[2]];
        for (int i = 0; i < defects.Length; i++)
        {
            matrix[defects[i] ? 1 : 0][predictions[i].IsDefect ? 1 : 0]++;
        }

        ClassificationMetrics m = ClassificationEvaluator.FromConfusionMatrix(["normal", "defect"], matrix);
        bool mixed = defects.Contains(true) && defects.Contains(false);
        return (labels, new ClassificationMetrics
        {
            Count = m.Count,
            Labels = m.Labels,
            Accuracy = m.Accuracy,
            MacroF1 = m.MacroF1,
            PerLabel = m.PerLabel,
            ConfusionMatrix = m.ConfusionMatrix,
            PositiveLabel = "defect",
            RocAuc = mixed ? BinaryMetrics.RocAuc(scores, defects) : null,
            PrAuc = mixed ? BinaryMetrics.AveragePrecision(scores, defects) : null,
        });
    }

    /// <inheritdoc />
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<DefectPrediction> predictions = Predict(crops, cancellationToken);
        CropVerdict[] verdicts = new CropVerdict[predictions.Count];
        for (int i = 0; i < verdicts.Length; i++)
        {
            DefectPrediction p = predictions[i];
            verdicts[i] = new CropVerdict(p.Label, p.IsDefect, p.Confidence, (float)p.Score);
        }

        return verdicts;
    }

    /// <summary>
    /// Saves the model as one <c>.ddmodel</c> file (written to a temporary file, then renamed): manifest (task, labels,
    /// preprocessing, backbone name, SHA-256 and tapped layers, threshold, training data summary, cross-validated
    /// metrics, creation time), head tensors, and the backbone unless <see cref="DefectModelSaveOptions.EmbedBackbone"/> is false.
    /// </summary>
    /// <exception cref="IOException">The file exists and <see cref="DefectModelSaveOptions.Overwrite"/> is false, or cannot be written.</exception>
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
        options ??= new DefectModelSaveOptions();
        PreprocessingInfo preprocessing;
        BackboneInfo? backboneInfo = null;
        var section = new ImageClassifierSection
        {
            Extractor = Backbone is null ? KindWeightFree : _extractor is CombinedFeatureExtractor ? KindBoth : KindOnnx,
            ExtractorIdentity = _extractor.Identity,
            FeatureLength = _extractor.FeatureLength,
            NormalLabels = NormalLabels,
            PositiveLabel = PositiveLabel,
            DefectThreshold = DefectThreshold,
            ThresholdRule = Training.ThresholdRule,
            Pooling = BackboneExtractor?.Pooling.ToString(),
            WeightFree = Backbone is null || _extractor is CombinedFeatureExtractor ? new WeightFreeExtractorInfo { Size = _weightFree.Size, Grid = _weightFree.Grid, Bins = _weightFree.OrientationBins, Scales = _weightFree.Scales } : null,
            FeatureSeconds = Training.FeatureSeconds,
            HeadSeconds = Training.HeadSeconds,
            AugmentedCount = Training.AugmentedCount,
        };
        if (Backbone is { } b)
        {
            TensorLayoutOptions l = b.Layout;
            preprocessing = LayoutManifest.Describe(l, "stretch-" + l.ResizeMode.ToString().ToLowerInvariant());
            backboneInfo = new BackboneInfo { Name = b.Name, Sha256 = b.Sha256, TappedLayers = [.. b.Layers], Embedded = options.EmbedBackbone, Input = b.InputName };
        }
        else
        {
            preprocessing = new PreprocessingInfo { Width = _weightFree.Size, Height = _weightFree.Size, Resize = "stretch-area", Color = "rgb" };
        }

        Dictionary<string, double> metrics = new(StringComparer.Ordinal);
        if (Training.CrossValidation is { } cv)
        {
            foreach ((string k, double v) in cv.ToSummary())
            {
                metrics["cv_" + k] = v;
            }
        }

        ModelManifest manifest = new()
        {
            Task = TaskName,
            Learner = Learners.ImageClassifier,
            Labels = [.. Labels],
            Preprocessing = preprocessing,
            Backbone = backboneInfo,
            Threshold = Threshold,
            TrainingData = new TrainingDataSummary { ImageCount = Training.ImageCount, PerLabel = Training.PerLabel, Source = options.DataSource },
            Metrics = metrics,
            ImageClassifier = section,
            Search = Training.Search,
            CreatedUtc = CreatedUtc,
        };
        return new ModelPackage(manifest, _head.ToTensors(), backboneInfo is { Embedded: true } ? _backboneBytes : null);
    }

    /// <summary>
    /// Loads a model saved by <see cref="Save(string, DefectModelSaveOptions?)"/> (through <see cref="DefectModel.Load(string, DefectModelLoadOptions?)"/>). A model whose backbone is not embedded needs
    /// <paramref name="backbonePath"/>; a given backbone is checked against the stored SHA-256 either way.
    /// </summary>
    /// <param name="path">The .ddmodel file.</param>
    /// <param name="backbonePath">The backbone ONNX file, or null to use the embedded one.</param>
    /// <param name="threads">Threads inside one backbone operator; null: <see cref="Environment.ProcessorCount"/>.</param>
    /// <exception cref="ModelFileException">The file is missing, corrupt, of a newer format, not a classification model, or its backbone is missing or differs.</exception>
    internal static ImageClassificationModel Load(string path, string? backbonePath = null, int? threads = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        ModelPackage package = ModelPackage.Load(full, new ModelLoadOptions { BackbonePath = backbonePath });
        ModelManifest m = package.Manifest;
        if (m.Task != TaskName)
        {
            throw new ModelFileException(full, ModelPackage.FileExtension, $"the model is a '{m.Task}' model, not a {TaskName} model");
        }

        ImageClassifierSection p = m.ImageClassifier ?? throw new ModelFileException(full, "manifest.json", "$.image_classifier", "missing");

        SoftmaxClassifierModel head;
        try
        {
            head = SoftmaxClassifierModel.FromTensors(m.Labels, package.Tensors);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFileException(full, "tensors", ex.Message, ex);
        }

        GradientHistogramOptions weightFree = new();
        IFeatureExtractor extractor;
        byte[]? bytes = null;
        string kind = p.Extractor;
        try
        {
            if (kind is KindOnnx or KindBoth)
            {
                BackboneInfo b = m.Backbone ?? throw new ModelFileException(full, "manifest.json", "the backbone is not described");
                bytes = package.EmbeddedBackbone ?? (backbonePath is not null ? File.ReadAllBytes(backbonePath)
                    : throw new ModelFileException(full, "manifest.json", $"the model refers to the backbone '{b.Name}' (SHA-256 {b.Sha256}) without embedding it; give its file"));
                TensorLayoutOptions layout = LayoutManifest.Read(full, m.Preprocessing);
                OnnxBackbone backbone = new(BackboneSpec.FromBytes(bytes, b.Name) with { Layout = layout, Taps = [.. b.TappedLayers], InputName = b.Input },
                    new OnnxBackboneOptions { Threads = threads ?? Environment.ProcessorCount });
                FeaturePooling pooling = Enum.TryParse(p.Pooling, out FeaturePooling pv) && Enum.IsDefined(pv) ? pv
                    : throw new ModelFileException(full, "manifest.json", "$.image_classifier.pooling", $"'{p.Pooling}' is not one of {string.Join(", ", Enum.GetNames<FeaturePooling>())}");
                OnnxFeatureExtractor onnx = new(backbone, ownsBackbone: true, pooling);
                extractor = onnx;
                if (kind == KindBoth)
                {
                    WeightFreeExtractorInfo w = p.WeightFree ?? throw new ModelFileException(full, "manifest.json", "$.image_classifier.weight_free", "missing");
                    weightFree = new GradientHistogramOptions { Size = w.Size, Grid = w.Grid, OrientationBins = w.Bins, Scales = w.Scales };
                    extractor = new CombinedFeatureExtractor(onnx, new GradientHistogramFeatureExtractor(weightFree));
                }
            }
            else if (kind == KindWeightFree)
            {
                WeightFreeExtractorInfo w = p.WeightFree ?? throw new ModelFileException(full, "manifest.json", "$.image_classifier.weight_free", "missing");
                weightFree = new GradientHistogramOptions { Size = w.Size, Grid = w.Grid, OrientationBins = w.Bins, Scales = w.Scales };
                extractor = new GradientHistogramFeatureExtractor(weightFree);
            }
            else
            {
                throw new ModelFileException(full, "manifest.json", $"the feature extractor '{kind}' is unknown to this version");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or Onnx.OnnxModelException)
        {
            throw new ModelFileException(full, "manifest.json", $"the feature extractor cannot be rebuilt: {ex.Message}", ex);
        }

        if (extractor.Identity != p.ExtractorIdentity || extractor.FeatureLength != head.FeatureLength)
        {
            (extractor as IDisposable)?.Dispose();
            throw new ModelFileException(full, "manifest.json", "the rebuilt feature extractor differs from the one the model was trained with");
        }

        string? positive = p.PositiveLabel;
        if (positive is not null && (m.Labels.Count != 2 || !m.Labels.Contains(positive) || m.Threshold is null))
        {
            (extractor as IDisposable)?.Dispose();
            throw new ModelFileException(full, "manifest.json", "the positive label or threshold is inconsistent with the labels");
        }

        // Thresholds are probabilities: a NaN or out-of-range value read back would silently call every image one way.
        double? defectThreshold = p.DefectThreshold;
        foreach ((string field, double? value) in new[] { ("threshold", m.Threshold), ("image_classifier.defect_threshold", defectThreshold) })
        {
            if (value is { } t && !(t > 0 && t < 1))
            {
                (extractor as IDisposable)?.Dispose();
                throw new ModelFileException(full, "manifest.json", $"{field} is {t.ToString(CultureInfo.InvariantCulture)}, expected a probability in (0, 1)");
            }
        }

        TrainingSummary training = new()
        {
            ImageCount = m.TrainingData?.ImageCount ?? 0,
            PerLabel = m.TrainingData?.PerLabel ?? new Dictionary<string, int>(),
            AugmentedCount = p.AugmentedCount,
            FeatureSeconds = p.FeatureSeconds,
            HeadSeconds = p.HeadSeconds,
            ThresholdRule = p.ThresholdRule,
            Search = m.Search,
        };
        string[] normal = [.. p.NormalLabels];
        return new ImageClassificationModel(extractor, head, positive, m.Threshold, normal, training, bytes, weightFree, m.CreatedUtc)
        {
            DefectThreshold = defectThreshold,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _shared.Release();
        }
    }

    private DefectPrediction FromFeatures(float[] features, int width, int height)
    {
        float[] probabilities = new float[Labels.Count];
        _head.PredictProbabilities(features, probabilities);
        Dictionary<string, float> scores = new(StringComparer.Ordinal);
        for (int k = 0; k < probabilities.Length; k++)
        {
            scores[Labels[k]] = probabilities[k];
        }

        double normal = 0;
        for (int k = 0; k < probabilities.Length; k++)
        {
            normal += _normal.Contains(Labels[k]) ? probabilities[k] : 0;
        }

        string label;
        bool isDefect;
        double score;
        double? threshold;
        float confidence;
        if (_positiveIndex >= 0)
        {
            double t = _threshold!.Value;
            score = probabilities[_positiveIndex];
            threshold = t;
            label = score >= t ? Labels[_positiveIndex] : Labels[1 - _positiveIndex];
            isDefect = !_normal.Contains(label);
            float c = ModelContract.Calibrate(score, t);
            confidence = _normal.Contains(Labels[_positiveIndex]) ? 1 - c : c;
        }
        else
        {
            label = Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities)];
            score = Math.Clamp(1 - normal, 0, 1);
            threshold = DefectThreshold;
            isDefect = DefectThreshold is { } dt ? score >= dt : !_normal.Contains(label);
            confidence = DefectThreshold is { } d ? ModelContract.Calibrate(score, d) : (float)score;
        }

        return new DefectPrediction
        {
            ImageWidth = width,
            ImageHeight = height,
            IsDefect = isDefect,
            Label = label,
            LabelScores = scores,
            Score = score,
            Threshold = threshold,
            Confidence = confidence,
        };
    }
}

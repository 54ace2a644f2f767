using DefectDetection.Models;
using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Features;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>
/// Learns an image classifier from a few labelled images (transfer learning): a frozen feature extractor (an ONNX
/// backbone's pooled layers, or the weight-free gradient-histogram extractor) turns each image into a vector, and a
/// softmax head is trained on the vectors. For a two-label task the positive label's decision threshold is chosen on
/// cross-validated probabilities. Features are cached by file content hash, so refitting on the same images only
/// retrains the head. Dispose the trainer to release its backbone.
/// </summary>
public sealed class ImageClassificationTrainer : IDefectTrainer, IDisposable
{
    private readonly FeatureCache _cache;
    private readonly IFeatureExtractor _extractor;
    private readonly byte[]? _backboneBytes;

    /// <summary>Creates a trainer, loading the backbone when one is named.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="FileNotFoundException">The backbone file does not exist.</exception>
    /// <exception cref="Onnx.OnnxModelException">The backbone cannot be run or lacks a layer.</exception>
    public ImageClassificationTrainer(ImageClassificationOptions? options = null)
    {
        Options = options ?? new ImageClassificationOptions();
        Options.Validate();
        if (Options.Backbone is { } spec)
        {
            (_backboneBytes, TensorLayoutOptions layout) = spec.Open();
            OnnxBackbone backbone = new(BackboneSpec.FromBytes(_backboneBytes, spec.Name) with { Layout = layout, Taps = spec.Taps, InputName = spec.InputName },
                new OnnxBackboneOptions { BatchSize = Options.BatchSize, Threads = Options.Threads });
            _extractor = new OnnxFeatureExtractor(backbone, ownsBackbone: true, Options.Pooling);
        }
        else
        {
            _extractor = new GradientHistogramFeatureExtractor(Options.WeightFree);
        }

        _cache = new FeatureCache(_extractor, new FeatureCacheOptions { Directory = Options.CacheDirectory });
    }

    /// <summary>The options.</summary>
    public ImageClassificationOptions Options { get; }

    /// <summary>Feature lookups answered from the cache since creation.</summary>
    internal int CacheHits => _cache.Hits;

    /// <summary>The feature extractor in use.</summary>
    public IFeatureExtractor Extractor => _extractor;

    /// <summary>
    /// Trains on a labelled dataset. Every label of <paramref name="dataset"/> needs at least two images. The returned
    /// model owns its own copy of the backbone and stays valid after this trainer is disposed. The images are taken in
    /// <see cref="ImageDataset.InContentOrder"/> before the folds and the head's shuffles are drawn, so the model does
    /// not depend on the order they are listed in.
    /// </summary>
    /// <param name="dataset">The training images.</param>
    /// <param name="progress">Receives feature, augmentation, threshold and head progress, or null.</param>
    /// <param name="cancellationToken">Stops training with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">Fewer than two labels, or a label without at least two images.</exception>
    /// <exception cref="InvalidImageContentException">An image cannot be decoded (the message names the file).</exception>
    public ImageClassificationModel Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        IReadOnlyDictionary<string, int> counts = dataset.CountByLabel();
        string[] labels = dataset.Labels.Order(StringComparer.Ordinal).ToArray();
        if (labels.Length < 2)
        {
            throw new ArgumentException($"A classifier needs at least two labels; the dataset has {labels.Length} ({string.Join(", ", labels)}).", nameof(dataset));
        }

        foreach (string label in labels)
        {
            int n = counts.TryGetValue(label, out int c) ? c : 0;
            if (n < 2)
            {
                throw new ArgumentException($"The label '{label}' has {n} image(s); every label needs at least two.", nameof(dataset));
            }
        }

        Stopwatch clock = Stopwatch.StartNew();
        dataset = dataset.InContentOrder(cancellationToken);
        string[] paths = dataset.Select(i => i.ImagePath).ToArray();
        string[] y = dataset.Select(i => i.Label).ToArray();
        float[][] features = ExtractFeatures(paths, progress, cancellationToken);
        List<float[]>[] augmented = Augment(paths, progress, cancellationToken);
        double featureSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        string? positive = labels.Length == 2 && labels.Contains(Options.PositiveLabel, StringComparer.Ordinal) ? Options.PositiveLabel : null;
        (double? threshold, ClassificationMetrics? cv, double? defectThreshold) = CrossValidate(features, augmented, y, labels, positive, progress, cancellationToken);
        SoftmaxClassifierModel head = FitHead(features, augmented, y, Enumerable.Range(0, y.Length).ToArray(), progress, cancellationToken);
        double headSeconds = clock.Elapsed.TotalSeconds;

        TrainingSummary summary = new()
        {
            ImageCount = dataset.Count,
            PerLabel = labels.ToDictionary(l => l, l => counts[l], StringComparer.Ordinal),
            AugmentedCount = augmented.Sum(a => a.Count),
            FeatureSeconds = featureSeconds,
            HeadSeconds = headSeconds,
            CrossValidation = cv,
            ThresholdRule = threshold is not null || defectThreshold is not null ? Options.Threshold.Rule.ToString() : null,
        };

        IFeatureExtractor modelExtractor = _extractor is OnnxFeatureExtractor onnx
            ? new OnnxFeatureExtractor(new OnnxBackbone(onnx.Backbone.Spec with { Taps = onnx.Backbone.Layers }, onnx.Backbone.Options), ownsBackbone: true, Options.Pooling)
            : _extractor;
        return new ImageClassificationModel(modelExtractor, head, positive, threshold, Options.NormalLabels.ToArray(), summary, _backboneBytes, Options.WeightFree, DateTimeOffset.UtcNow)
        {
            DefectThreshold = defectThreshold,
        };
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => (_extractor as IDisposable)?.Dispose();

    internal float[][] ExtractFeatures(IReadOnlyList<string> paths, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        float[][] result = new float[paths.Count][];
        int batch = Math.Max(1, Options.BatchSize);
        for (int start = 0; start < paths.Count; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batch, paths.Count - start);
            float[][] part = _cache.GetOrExtract(paths.Skip(start).Take(count).ToArray(), cancellationToken);
            part.CopyTo(result, start);
            progress?.Report(TrainingProgress.Count(TrainingStages.Features, start + count, paths.Count));
        }

        return result;
    }

    private List<float[]>[] Augment(string[] paths, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        List<float[]>[] result = new List<float[]>[paths.Length];
        for (int i = 0; i < paths.Length; i++)
        {
            result[i] = [];
        }

        if (Options.Augmentation == ImageAugmentation.None)
        {
            return result;
        }

        for (int i = 0; i < paths.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using Image image = ImageCodecs.Load(paths[i]);
            List<Image> owned = [];
            List<ImageView> views = [];
            try
            {
                ImageAugmentation a = Options.Augmentation;
                if (a.HasFlag(ImageAugmentation.FlipHorizontal))
                {
                    owned.Add(Orientation.FlipHorizontal(image));
                }

                if (a.HasFlag(ImageAugmentation.FlipVertical))
                {
                    owned.Add(Orientation.FlipVertical(image));
                }

                if (a.HasFlag(ImageAugmentation.Rotate90))
                {
                    owned.Add(Orientation.Rotate90(image));
                    owned.Add(Orientation.Rotate180(image));
                    owned.Add(Orientation.Rotate270(image));
                }

                views.AddRange(owned.Select(o => (ImageView)o));
                if (a.HasFlag(ImageAugmentation.Crops))
                {
                    int w = Math.Max(1, image.Width * 85 / 100), h = Math.Max(1, image.Height * 85 / 100);
                    int dx = image.Width - w, dy = image.Height - h;
                    foreach ((int x, int yy) in new[] { (0, 0), (dx, 0), (0, dy), (dx, dy) })
                    {
                        views.Add(image.View().Slice(new Rectangle(x, yy, w, h)));
                    }
                }

                result[i].AddRange(_extractor.ExtractBatch(views, cancellationToken));
            }
            finally
            {
                owned.ForEach(o => o.Dispose());
            }

            progress?.Report(TrainingProgress.Count(TrainingStages.Augmentation, i + 1, paths.Length));
        }

        return result;
    }

    private (double? Threshold, ClassificationMetrics? Metrics, double? DefectThreshold) CrossValidate(float[][] features, List<float[]>[] augmented, string[] y, string[] labels, string? positive,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int smallest = labels.Min(l => y.Count(v => v == l));
        int folds = Math.Min(Options.ThresholdFolds, smallest);
        if (folds < 2)
        {
            return (positive is null ? null : 0.5, null, null);
        }

        // Stratified folds: each label's samples shuffled by the seed and dealt round-robin.
        int[] fold = new int[y.Length];
        Random random = new(Options.Seed);
        foreach (string label in labels)
        {
            int[] members = Enumerable.Range(0, y.Length).Where(i => y[i] == label).ToArray();
            random.Shuffle(members);
            for (int k = 0; k < members.Length; k++)
            {
                fold[members[k]] = k % folds;
            }
        }

        float[][] probabilities = new float[y.Length][];
        for (int f = 0; f < folds; f++)
        {
            int[] train = Enumerable.Range(0, y.Length).Where(i => fold[i] != f).ToArray();
            SoftmaxClassifierModel head = FitHead(features, augmented, y, train, null, cancellationToken);
            for (int i = 0; i < y.Length; i++)
            {
                if (fold[i] == f)
                {
                    probabilities[i] = new float[labels.Length];
                    head.PredictProbabilities(features[i], probabilities[i]);
                }
            }

            progress?.Report(TrainingProgress.Count(TrainingStages.Threshold, f + 1, folds));
        }

        if (positive is null)
        {
            string[] predicted = probabilities.Select(p => labels[Array.IndexOf(p, p.Max())]).ToArray();
            double? defectThreshold = null;
            HashSet<string> normal = new(Options.NormalLabels, StringComparer.Ordinal);
            if (Options.ChooseDefectThreshold && labels.Any(normal.Contains) && !labels.All(normal.Contains))
            {
                // P(defect) = 1 - P(normal labels); its threshold is chosen like a two-label task's.
                int[] normalIdx = Enumerable.Range(0, labels.Length).Where(k => normal.Contains(labels[k])).ToArray();
                double[] defectScores = probabilities.Select(p => 1.0 - normalIdx.Sum(k => (double)p[k])).ToArray();
                bool[] isDefect = y.Select(v => !normal.Contains(v)).ToArray();
                double t = BinaryMetrics.SelectThreshold(defectScores, isDefect, Options.Threshold);
                defectThreshold = double.IsFinite(t) ? t : null;
            }

            return (null, ClassificationEvaluator.Evaluate(y, predicted, labels), defectThreshold);
        }

        int pos = Array.IndexOf(labels, positive);
        double[] scores = probabilities.Select(p => (double)p[pos]).ToArray();
        bool[] positives = y.Select(v => v == positive).ToArray();
        double threshold = BinaryMetrics.SelectThreshold(scores, positives, Options.Threshold);
        if (!double.IsFinite(threshold))
        {
            threshold = 0.5;
        }

        string negative = labels[1 - pos];
        return (threshold, ClassificationEvaluator.EvaluateBinary(positives, scores, threshold, positive, negative), null);
    }

    private SoftmaxClassifierModel FitHead(float[][] features, List<float[]>[] augmented, string[] y, int[] subset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        List<float[]> x = [];
        List<string> labels = [];
        foreach (int i in subset)
        {
            x.Add(features[i]);
            labels.Add(y[i]);
            foreach (float[] a in augmented[i])
            {
                x.Add(a);
                labels.Add(y[i]);
            }
        }

        SoftmaxClassifierOptions h = Options.Head;
        SoftmaxClassifierTrainer trainer = new(new SoftmaxClassifierOptions
        {
            Optimizer = h.Optimizer,
            L2 = h.L2,
            ClassWeighting = h.ClassWeighting,
            ClassWeights = h.ClassWeights,
            Standardize = h.Standardize,
            ValidationFraction = Options.ValidationFraction,
            MinSamplesForValidation = h.MinSamplesForValidation,
            MaxIterations = h.MaxIterations,
            Tolerance = h.Tolerance,
            EarlyStoppingPatience = h.EarlyStoppingPatience,
            Seed = Options.Seed,
            LearningRate = h.LearningRate,
            BatchSize = h.BatchSize,
            History = h.History,
            CalibrateTemperature = h.CalibrateTemperature,
        });
        return trainer.Fit(x, labels, progress, cancellationToken);
    }
}

using DefectDetection.Models;
using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
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
        bool search = Options.AutoConfig.Enabled;
        if (Options.Backbone is { } spec)
        {
            (_backboneBytes, TensorLayoutOptions layout) = spec.Open();
            BackboneSpec open = BackboneSpec.FromBytes(_backboneBytes, spec.Name) with { Layout = layout, Taps = spec.Taps, InputName = spec.InputName };
            OnnxBackboneOptions backboneOptions = new() { BatchSize = Options.BatchSize, Threads = Options.Threads };
            OnnxBackbone backbone = new(open, backboneOptions);
            if (search && spec.Taps.Count == 0 && StageTaps(layout, spec.InputName, backbone.Layers[0]) is { Length: > 0 } stages)
            {
                // The taps candidates share one run: the default tap, then the stage outputs before it, deepest first.
                string first = backbone.Layers[0];
                backbone.Dispose();
                backbone = new OnnxBackbone(open with { Taps = [first, .. stages] }, backboneOptions);
            }

            // Unset pooling: both poolings are computed, and each candidate takes its part; the same for the weight-free features.
            OnnxFeatureExtractor onnx = new(backbone, ownsBackbone: true, Options.Pooling ?? (search ? FeaturePooling.AverageAndMax : FeaturePooling.Average));
            _extractor = Options.AppendWeightFree ?? search ? new CombinedFeatureExtractor(onnx, new GradientHistogramFeatureExtractor(Options.WeightFree)) : onnx;
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

    /// <summary>
    /// The feature extractor that reads the training images: with automatic configuration on and the taps or pooling
    /// unset, it taps and pools every candidate at once (the model keeps only the chosen part).
    /// </summary>
    public IFeatureExtractor Extractor => _extractor;

    /// <summary>
    /// Trains on a labelled dataset. Every label of <paramref name="dataset"/> needs at least two images. The returned
    /// model owns its own copy of the backbone and stays valid after this trainer is disposed. The images are taken in
    /// <see cref="ImageDataset.InContentOrder"/> before the folds and the head's shuffles are drawn, so the model does
    /// not depend on the order they are listed in. Settings left unset are chosen first by cross-validation on these
    /// images (<see cref="ImageClassificationOptions.AutoConfig"/>; the record is <see cref="TrainingSummary.Search"/>).
    /// </summary>
    /// <param name="dataset">The training images.</param>
    /// <param name="progress">Receives feature, augmentation, search, threshold and head progress, or null.</param>
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
        float[][] all = ExtractFeatures(paths, progress, cancellationToken);
        double extractSeconds = clock.Elapsed.TotalSeconds;
        Dictionary<ImageAugmentation, List<float[]>[]> augmentedAll = [];
        List<float[]>[] AugmentedAll(ImageAugmentation a)
        {
            if (!augmentedAll.TryGetValue(a, out List<float[]>[]? copies))
            {
                augmentedAll[a] = copies = Augment(_extractor, a, paths, progress, cancellationToken);
            }

            return copies;
        }

        string? positive = labels.Length == 2 && labels.Contains(Options.PositiveLabel, StringComparer.Ordinal) ? Options.PositiveLabel : null;
        int[] folds = Folds(y, labels);
        int[] yIndex = y.Select(v => Array.IndexOf(labels, v)).ToArray();
        FeatureLayout layout = FeatureLayout.Of(_extractor);
        ClassifierSetting fixedSetting = new(layout.Taps, layout.Pooling, Options.Augmentation ?? ImageAugmentation.None, Options.Head.L2 ?? SoftmaxClassifierOptions.DefaultL2, layout.WeightFree > 0);

        // The search: each searched setting's candidates as a function of the current choice, cheapest first.
        clock.Restart();
        List<string> searched = [];
        List<Func<ClassifierSetting, ClassifierSetting[]>> steps = [];
        ClassifierSetting start = fixedSetting;
        if (Options.AutoConfig.Enabled)
        {
            if (layout.Pooling is not null && Options.Pooling is null)
            {
                searched.Add("pooling");
                start = start with { Pooling = FeaturePooling.Average };
                steps.Add(s => [s with { Pooling = FeaturePooling.Average }, s with { Pooling = FeaturePooling.Max }, s with { Pooling = FeaturePooling.AverageAndMax }]);
            }

            if (layout.Taps > 1 && Options.Backbone!.Taps.Count == 0)
            {
                searched.Add("taps");
                start = start with { Taps = 1 };
                steps.Add(s => [.. Enumerable.Range(1, layout.Taps).Select(t => s with { Taps = t })]);
            }

            if (layout.Pooling is not null && Options.AppendWeightFree is null)
            {
                searched.Add("weight_free");
                start = start with { WeightFree = false };
                steps.Add(s => [s with { WeightFree = false }, s with { WeightFree = true }]);
            }

            if (Options.Head.L2 is null)
            {
                searched.Add("l2");
                steps.Add(s => [.. ClassifierSearch.L2Candidates.Select(l2 => s with { L2 = l2 })]);
            }

            if (Options.Augmentation is null)
            {
                searched.Add("augmentation");
                steps.Add(s => [s with { Augmentation = ImageAugmentation.None }, s with { Augmentation = ClassifierSearch.Flips }]);
            }
        }

        ClassifierSetting chosen = fixedSetting;
        TrainingSearch? record = null;
        ClassifierSearch? search = null;
        if (steps.Count > 0)
        {
            double budget = Options.AutoConfig.TimeBudget > TimeSpan.Zero ? Options.AutoConfig.TimeBudget.TotalSeconds : double.PositiveInfinity;
            double secondsPerImage = extractSeconds / paths.Length;
            search = new ClassifierSearch(
                s => layout.Slice(all, s),
                (s, seconds) => s.Augmentation == ImageAugmentation.None || augmentedAll.ContainsKey(s.Augmentation)
                    || secondsPerImage * paths.Length * ClassifierSearch.Copies(s.Augmentation) <= seconds
                    ? layout.Slice(AugmentedAll(s.Augmentation), s)
                    : null,
                (x, copies, l2) => OutOfFold(x, copies, y, labels, folds, l2, cancellationToken),
                yIndex, labels.Length, positive is null ? -1 : Array.IndexOf(labels, positive), Options.AutoConfig.Seed);
            (chosen, List<SearchCandidate> candidates) = search.Run(steps, start, budget, progress, cancellationToken);
            record = new TrainingSearch
            {
                Criterion = search.Criterion,
                Searched = searched,
                Candidates = candidates,
                Chosen = chosen.Name,
                BudgetSeconds = double.IsInfinity(budget) ? 0 : budget,
                Seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                TrainImages = paths.Length,
                ValidationImages = paths.Length,
            };
        }

        // The chosen features: a part of the ones extracted, unless the model's own extractor (the chosen taps only)
        // computes them differently (an engine may fuse differently around a tensor that is no longer an output).
        clock.Restart();
        IFeatureExtractor modelExtractor = ModelExtractor(chosen);
        float[][] features = layout.Slice(all, chosen);
        List<float[]>[] augmented = chosen.Augmentation == ImageAugmentation.None ? Empty(paths.Length) : layout.Slice(AugmentedAll(chosen.Augmentation), chosen);
        bool same = (chosen.Taps == layout.Taps || layout.Pooling is null) || SameFeatures(modelExtractor, paths[0], features[0]);
        if (!same)
        {
            FeatureCache cache = new(modelExtractor, new FeatureCacheOptions { Directory = Options.CacheDirectory });
            features = ExtractFeatures(cache, paths, progress, cancellationToken);
            augmented = Augment(modelExtractor, chosen.Augmentation, paths, progress, cancellationToken);
        }

        double featureSeconds = extractSeconds + (same ? 0 : clock.Elapsed.TotalSeconds);
        clock.Restart();
        float[][] probabilities = (same ? search?.Probabilities(chosen) : null) ?? OutOfFold(features, augmented, y, labels, folds, chosen.L2, cancellationToken, progress);
        (double? threshold, ClassificationMetrics cv, double? defectThreshold) = Summarise(probabilities, y, labels, positive);
        SoftmaxClassifierModel head = FitHead(features, augmented, y, Enumerable.Range(0, y.Length).ToArray(), chosen.L2, progress, cancellationToken);
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
            Search = record,
        };

        // P(defect) of each training image from the fold that held it out: P(positive) of two labels, else 1 - P(normal labels).
        HashSet<string> normalSet = new(Options.NormalLabels, StringComparer.Ordinal);
        int[] defectIdx = positive is not null ? [Array.IndexOf(labels, positive)] : [.. Enumerable.Range(0, labels.Length).Where(k => !normalSet.Contains(labels[k]))];
        OutOfFoldScores outOfFold = new(paths, [.. probabilities.Select(p => defectIdx.Sum(k => (double)p[k]))]);
        return new ImageClassificationModel(modelExtractor, head, positive, threshold, Options.NormalLabels.ToArray(), summary, _backboneBytes, Options.WeightFree, DateTimeOffset.UtcNow)
        {
            DefectThreshold = defectThreshold,
            OutOfFold = outOfFold,
        };
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => (_extractor as IDisposable)?.Dispose();

    internal float[][] ExtractFeatures(IReadOnlyList<string> paths, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) =>
        ExtractFeatures(_cache, paths, progress, cancellationToken);

    private float[][] ExtractFeatures(FeatureCache cache, IReadOnlyList<string> paths, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        float[][] result = new float[paths.Count][];
        int batch = Math.Max(1, Options.BatchSize);
        for (int start = 0; start < paths.Count; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batch, paths.Count - start);
            float[][] part = cache.GetOrExtract(paths.Skip(start).Take(count).ToArray(), cancellationToken);
            part.CopyTo(result, start);
            progress?.Report(TrainingProgress.Count(TrainingStages.Features, start + count, paths.Count));
        }

        return result;
    }

    private static List<float[]>[] Empty(int count)
    {
        List<float[]>[] result = new List<float[]>[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = [];
        }

        return result;
    }

    private static List<float[]>[] Augment(IFeatureExtractor extractor, ImageAugmentation augmentation, string[] paths, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        List<float[]>[] result = Empty(paths.Length);
        if (augmentation == ImageAugmentation.None)
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
                ImageAugmentation a = augmentation;
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

                result[i].AddRange(extractor.ExtractBatch(views, cancellationToken));
            }
            finally
            {
                owned.ForEach(o => o.Dispose());
            }

            progress?.Report(TrainingProgress.Count(TrainingStages.Augmentation, i + 1, paths.Length));
        }

        return result;
    }

    // Stratified folds: each label's samples shuffled by the seed and dealt round-robin.
    private int[] Folds(string[] y, string[] labels)
    {
        int folds = Math.Min(Options.ThresholdFolds, labels.Min(l => y.Count(v => v == l)));
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

        return fold;
    }

    // Each image's probabilities from the head fitted on the other folds (their augmented copies included).
    private float[][] OutOfFold(float[][] features, List<float[]>[] augmented, string[] y, string[] labels, int[] fold, double l2,
        CancellationToken cancellationToken, IProgress<TrainingProgress>? progress = null)
    {
        int folds = fold.Max() + 1;
        float[][] probabilities = new float[y.Length][];
        for (int f = 0; f < folds; f++)
        {
            int[] train = Enumerable.Range(0, y.Length).Where(i => fold[i] != f).ToArray();
            SoftmaxClassifierModel head = FitHead(features, augmented, y, train, l2, null, cancellationToken);
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

        return probabilities;
    }

    // The out-of-fold metrics and the thresholds chosen on the out-of-fold probabilities.
    private (double? Threshold, ClassificationMetrics Metrics, double? DefectThreshold) Summarise(float[][] probabilities, string[] y, string[] labels, string? positive)
    {
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

    private SoftmaxClassifierModel FitHead(float[][] features, List<float[]>[] augmented, string[] y, int[] subset, double l2, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
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
            L2 = l2,
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

    // The model's own extractor: the chosen taps and pooling of the backbone (a new session the model owns) and the
    // weight-free part when chosen, or the weight-free extractor alone.
    private IFeatureExtractor ModelExtractor(ClassifierSetting chosen)
    {
        OnnxFeatureExtractor? onnx = _extractor as OnnxFeatureExtractor ?? (_extractor as CombinedFeatureExtractor)?.Onnx;
        if (onnx is null)
        {
            return _extractor;
        }

        OnnxFeatureExtractor part = new(new OnnxBackbone(onnx.Backbone.Spec with { Taps = [.. onnx.Backbone.Layers.Take(chosen.Taps)] }, onnx.Backbone.Options), ownsBackbone: true, chosen.Pooling!.Value);
        return chosen.WeightFree ? new CombinedFeatureExtractor(part, new GradientHistogramFeatureExtractor(Options.WeightFree)) : part;
    }

    // Whether an extractor gives an image the features sliced from the search's extraction (to rounding).
    private static bool SameFeatures(IFeatureExtractor extractor, string path, float[] expected)
    {
        using Image image = ImageCodecs.Load(path);
        float[] actual = extractor.ExtractBatch([image.View()])[0];
        if (actual.Length != expected.Length)
        {
            return false;
        }

        float scale = 1 + System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(expected);
        for (int i = 0; i < actual.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= 1e-4f * scale))
            {
                return false;
            }
        }

        return true;
    }

    // The stage outputs (PatchCore's taps: strides 8 and 16 on most backbones) other than the default tap, deepest first: the taps candidates beyond the default.
    private string[] StageTaps(TensorLayoutOptions layout, string? inputName, string defaultTap)
    {
        try
        {
            return [.. OnnxBackbone.StageTaps(_backboneBytes!, layout, inputName).Reverse().Where(t => t != defaultTap)];
        }
        catch (Onnx.OnnxModelException)
        {
            return [];
        }
    }

    /// <summary>Where each tap, pooling and the weight-free part lie in the extractor's feature vector, to cut a candidate's part out of it.</summary>
    private sealed class FeatureLayout
    {
        private readonly int[] _channels;
        private readonly FeaturePooling? _pooling;

        private FeatureLayout(int[] channels, FeaturePooling? pooling, int weightFree)
        {
            _channels = channels;
            _pooling = pooling;
            WeightFree = weightFree;
        }

        /// <summary>The taps extracted.</summary>
        public int Taps => _channels.Length;

        /// <summary>The pooling extracted (both for a search), or null for the weight-free extractor alone.</summary>
        public FeaturePooling? Pooling => _pooling;

        /// <summary>Weight-free features after the backbone's (all of them without a backbone).</summary>
        public int WeightFree { get; }

        public static FeatureLayout Of(IFeatureExtractor extractor) => extractor switch
        {
            OnnxFeatureExtractor onnx => new FeatureLayout([.. onnx.Backbone.LayerShapes.Select(s => s.Channels)], onnx.Pooling, 0),
            CombinedFeatureExtractor both => new FeatureLayout([.. both.Onnx.Backbone.LayerShapes.Select(s => s.Channels)], both.Onnx.Pooling, both.WeightFree.FeatureLength),
            _ => new FeatureLayout([], null, extractor.FeatureLength),
        };

        public float[][] Slice(float[][] rows, ClassifierSetting setting)
        {
            if (_pooling is null || (setting.Taps == Taps && setting.Pooling == _pooling && setting.WeightFree == (WeightFree > 0)))
            {
                return rows;
            }

            List<(int Start, int Length)> ranges = [];
            int offset = 0;
            for (int t = 0; t < Taps; t++)
            {
                int c = _channels[t];
                int block = _pooling == FeaturePooling.AverageAndMax ? 2 * c : c;
                if (t < setting.Taps)
                {
                    ranges.Add(setting.Pooling == _pooling ? (offset, block) : setting.Pooling == FeaturePooling.Max ? (offset + c, c) : (offset, c));
                }

                offset += block;
            }

            if (setting.WeightFree)
            {
                ranges.Add((offset, WeightFree));
            }

            int length = ranges.Sum(r => r.Length);
            float[][] result = new float[rows.Length][];
            for (int i = 0; i < rows.Length; i++)
            {
                float[] row = new float[length];
                int at = 0;
                foreach ((int start, int n) in ranges)
                {
                    rows[i].AsSpan(start, n).CopyTo(row.AsSpan(at));
                    at += n;
                }

                result[i] = row;
            }

            return result;
        }

        public List<float[]>[] Slice(List<float[]>[] copies, ClassifierSetting setting) =>
            [.. copies.Select(c => c.Count == 0 ? c : [.. Slice([.. c], setting)])];
    }
}

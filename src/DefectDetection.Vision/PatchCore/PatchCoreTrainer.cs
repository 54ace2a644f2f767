using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Trains a PatchCore-class anomaly detector from normal images: patch features of tapped backbone layers, a greedy
/// k-centre coreset as memory bank, and a threshold calibrated on held-out scores (each calibration image scored
/// against the bank without its own patches), or F1-optimal when some anomalies are labelled.
/// </summary>
public sealed class PatchCoreTrainer : IDefectTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="options">The configuration (validated here).</param>
    public PatchCoreTrainer(PatchCoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The configuration.</summary>
    public PatchCoreOptions Options { get; }

    /// <summary>
    /// Fits the model. The images are taken in the order of a hash of their pixels, so the model does not depend on
    /// the order of the lists.
    /// </summary>
    /// <param name="normalImages">Normal images (any sizes and pixel formats; each is stretched to the input size).</param>
    /// <param name="labelledAnomalies">
    /// Optional anomalous images, used only to set the threshold (see <see cref="AnomalyThresholdOptions.Source"/>).
    /// </param>
    /// <param name="progress">Optional progress.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The trained model (dispose it when done).</returns>
    public PatchCoreModel Fit(IReadOnlyList<ImageView> normalImages, IReadOnlyList<ImageView>? labelledAnomalies = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalImages);
        labelledAnomalies ??= [];
        int[] order = ContentOrder.Of(normalImages);
        return FitCore(normalImages.Count, i => (normalImages[order[i]], null), labelledAnomalies.Count, i => (labelledAnomalies[i], null), progress, cancellationToken);
    }

    /// <summary>Fits the model on decoded images (what <see cref="ImageCodecs.Load"/> returns).</summary>
    /// <param name="normalImages">Normal images (any sizes).</param>
    /// <param name="progress">Optional progress.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The trained model (dispose it when done).</returns>
    public PatchCoreModel Fit(IReadOnlyList<Image> normalImages, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalImages);
        return Fit([.. normalImages.Select(i => i.View())], null, progress, cancellationToken);
    }

    /// <summary>
    /// Fits the model on a dataset: images with one of <see cref="PatchCoreOptions.NormalLabels"/> train, any others
    /// can only set the threshold (see <see cref="AnomalyThresholdOptions.Source"/>). The normal images are taken in
    /// <see cref="ImageDataset.InContentOrder"/>, so the model does not depend on the order they are listed in.
    /// </summary>
    /// <param name="dataset">The images.</param>
    /// <param name="progress">Optional progress.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The trained model (dispose it when done).</returns>
    /// <exception cref="ArgumentException">The dataset has no image with a normal label.</exception>
    public PatchCoreModel Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        HashSet<string> normal = new(Options.NormalLabels, StringComparer.Ordinal);
        LabeledImage[] normals = dataset.Filter(x => normal.Contains(x.Label)).InContentOrder(cancellationToken).ToArray();
        LabeledImage[] anomalies = Options.Threshold.Source == AnomalyThresholdSource.Normals ? [] : dataset.Where(x => !normal.Contains(x.Label)).ToArray();
        if (normals.Length == 0)
        {
            throw new ArgumentException($"The dataset has no image labelled {string.Join(" or ", Options.NormalLabels)} (labels: {string.Join(", ", dataset.Labels)}).", nameof(dataset));
        }

        return FitCore(normals.Length, i => Open(normals[i].ImagePath), anomalies.Length, i => Open(anomalies[i].ImagePath), progress, cancellationToken);

        static (ImageView, Image?) Open(string path)
        {
            Image image = ImageCodecs.Load(path);
            return (image.View(), image);
        }
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    private PatchCoreModel FitCore(int normalCount, Func<int, (ImageView View, Image? Owned)> normal, int anomalyCount, Func<int, (ImageView View, Image? Owned)> anomaly,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (normalCount == 0)
        {
            throw new ArgumentException("At least one normal image is needed.");
        }

        AnomalyThresholdSource source = Options.Threshold.Source;
        if (source == AnomalyThresholdSource.LabelledAnomalies && anomalyCount == 0)
        {
            throw new ArgumentException($"The threshold is to be set from labelled anomalies (Threshold.Source {source}), but the training data has none (normal labels: {string.Join(", ", Options.NormalLabels)}).");
        }

        if (source == AnomalyThresholdSource.Normals)
        {
            anomalyCount = 0;
        }

        // Settings left unset are chosen by validation on the normals first (the scale: whole image or tiles).
        PatchCoreOptions o = Options;
        ModelFiles.TrainingSearch? searchRecord = null;
        if (o.Tiles is null && o.AutoConfig.Enabled)
        {
            (o, searchRecord) = PatchCoreSearch.Run(o, normalCount, normal, progress, cancellationToken);
        }

        int inputSize = o.InputSize ?? 224, tiles = o.Tiles ?? 1;
        BackboneSpec spec = o.Backbone!;
        (byte[] backbone, TensorLayoutOptions layout) = spec.Open();
        var extractor = new PatchFeatureExtractor(backbone, spec.Name, spec.Taps, inputSize, o.Neighbourhood, o.Threads, o.BatchSize, tiles, (float)o.PositionWeight, layout, o.MaxLayerFeatures, spec.InputName);
        try
        {
            int patches = extractor.Patches, dim = extractor.Dimension;
            long total = (long)normalCount * patches * dim;
            if (total > Array.MaxLength)
            {
                throw new ArgumentException($"{normalCount} images x {patches} patches x {dim} features do not fit one array; use fewer images or a smaller input.");
            }

            // Hold out some normal images (evenly spaced in content order, placed last) to calibrate the threshold on a
            // bank built without them.
            int m = normalCount < 2 ? 0 : Math.Clamp((int)Math.Round(normalCount * o.Threshold.CalibrationFraction), 1, Math.Min(o.Threshold.MaxCalibrationImages, normalCount - 1));
            int[] order = CalibrationOrder(normalCount, m);
            bool useContext = o.ContextWeight > 0;
            float[]? context = useContext ? new float[(long)normalCount * patches * PatchContext.Dimension] : null;
            float[] features = ExtractAll(extractor, normalCount, i => normal(order[i]), "features", progress, cancellationToken, context);
            float[] flipped = o.AugmentFlips
                ? ExtractAll(extractor, Flips * normalCount, i => Flip(normal(order[i / Flips]), i % Flips), "features", progress, cancellationToken)
                : [];
            int trainRows = (normalCount - m) * patches;
            float[] descriptors = o.NearestImages > 0 ? PatchBank.Describe(features, normalCount, patches, dim) : [];
            (float[] bank, int[] sources) = BuildBank(WithFlips(features, flipped, trainRows * dim), trainRows, patches, dim, progress, cancellationToken);

            // The held-out normals' patch distances (one image scored against itself when there is no other).
            int first = m == 0 ? 0 : normalCount - m, held = m == 0 ? 1 : m;
            float[] heldDist = new float[held * patches];
            float[] dist = new float[patches];
            progress?.Report(new TrainingProgress("calibration", 0));
            var search = new PatchBank(bank, sources, dim, descriptors.AsSpan(0, Math.Min(descriptors.Length, (normalCount - m) * dim)).ToArray(), o.NearestImages);
            bank = search.Bank;
            for (int k = 0; k < held; k++)
            {
                float[] query = features.AsSpan((first + k) * patches * dim, patches * dim).ToArray();
                search.Distances(query, 0, 1, patches, dist, o.Threads, cancellationToken);
                dist.CopyTo(heldDist.AsSpan(k * patches, patches));
            }

            float[] contextModel = [];
            float contextScale = 0;
            if (context is not null)
            {
                // Gaussian of the training normals' context features; its weight puts the context score in units of the
                // patch distance, both measured by their spread over the held-out normals.
                int fitImages = m == 0 ? normalCount : normalCount - m;
                contextModel = PatchContext.Fit(context.AsSpan(0, fitImages * patches * PatchContext.Dimension));
                float[] heldContext = new float[held * patches];
                PatchContext.Score(context.AsSpan(first * patches * PatchContext.Dimension, held * patches * PatchContext.Dimension), contextModel, heldContext);
                double sd = PatchContext.Std(heldDist), sc = PatchContext.Std(heldContext);
                contextScale = sc > 0 ? (float)(o.ContextWeight * Math.Max(sd, 1e-6) / sc) : 0;
            }

            var normalScores = new List<double>(held);
            for (int k = 0; k < held; k++)
            {
                heldDist.AsSpan(k * patches, patches).CopyTo(dist);
                float[] query = features.AsSpan((first + k) * patches * dim, patches * dim).ToArray();
                if (context is not null)
                {
                    PatchCoreModel.AddContext(dist, context.AsSpan((first + k) * patches * PatchContext.Dimension, patches * PatchContext.Dimension), contextModel, contextScale);
                }

                PatchCoreModel.ReplaceBorder(dist, extractor.GridWidth, extractor.GridHeight, o.BorderPatches);
                normalScores.Add(PatchCoreModel.ImageScore(dist));
                progress?.Report(new TrainingProgress("calibration", (k + 1.0) / (held + anomalyCount)));
            }

            var anomalyScores = new List<double>(anomalyCount);
            if (anomalyCount > 0)
            {
                float[]? aContext = useContext ? new float[(long)anomalyCount * patches * PatchContext.Dimension] : null;
                float[] aFeatures = ExtractAll(extractor, anomalyCount, anomaly, "calibration", null, cancellationToken, aContext);
                for (int a = 0; a < anomalyCount; a++)
                {
                    float[] query = aFeatures.AsSpan(a * patches * dim, patches * dim).ToArray();
                    search.Distances(query, 0, 1, patches, dist, o.Threads, cancellationToken);
                    if (aContext is not null)
                    {
                        PatchCoreModel.AddContext(dist, aContext.AsSpan(a * patches * PatchContext.Dimension, patches * PatchContext.Dimension), contextModel, contextScale);
                    }

                    PatchCoreModel.ReplaceBorder(dist, extractor.GridWidth, extractor.GridHeight, o.BorderPatches);
                    anomalyScores.Add(PatchCoreModel.ImageScore(dist));
                }
            }

            if (context is not null && m > 0 && o.Threshold.RefitWithCalibrationImages)
            {
                contextModel = PatchContext.Fit(context);
            }

            PatchBank patchBank = search;
            if (m > 0 && o.Threshold.RefitWithCalibrationImages)
            {
                (bank, sources) = BuildBank(WithFlips(features, flipped, normalCount * patches * dim), normalCount * patches, patches, dim, progress, cancellationToken);
                patchBank = new PatchBank(bank, sources, dim, descriptors, o.NearestImages);
            }

            // The anomalies' scores in ascending order: the threshold does not depend on the order they were given in.
            anomalyScores.Sort();
            features = [];
            flipped = [];
            double threshold = anomalyCount > 0
                ? AnomalyThreshold.FromLabelled(normalScores, anomalyScores)
                : AnomalyThreshold.FromNormals(normalScores, o.Threshold);
            (double mean, double std) = AnomalyThreshold.MeanStd(normalScores);
            double scale = std > 0 ? std : Math.Max(1e-6, 0.05 * Math.Abs(threshold));
            var settings = new PatchCoreSettings([.. extractor.Backbone.Layers], inputSize, tiles, o.Neighbourhood, o.BorderPatches, o.MapSigma, o.MinRegionArea, o.BatchSize, o.Threads, o.CoresetRatio, normalCount)
            {
                ContextModel = contextModel,
                ContextScale = contextScale,
                ContextWeight = o.ContextWeight,
                PositionWeight = (float)o.PositionWeight,
            };
            var model = new PatchCoreModel(extractor, settings, patchBank, threshold, scale, [.. normalScores]) { Search = searchRecord };
            extractor = null!;
            return model;
        }
        finally
        {
            extractor?.Dispose();
        }
    }

    /// <summary>
    /// Bank candidates: <paramref name="length"/> values of the originals' features followed by the flipped copies of
    /// the same images (<see cref="Flips"/> per image, in the same order); the originals alone without flips.
    /// </summary>
    private static (float[] Features, int Rows) WithFlips(float[] features, float[] flipped, int length)
    {
        if (flipped.Length == 0)
        {
            return (features, -1);
        }

        float[] all = new float[(long)length * (Flips + 1)];
        features.AsSpan(0, length).CopyTo(all);
        flipped.AsSpan(0, length * Flips).CopyTo(all.AsSpan(length));
        return (all, Flips + 1);
    }

    private (float[] Bank, int[] Sources) BuildBank((float[] Features, int Copies) candidates, int originalRows, int patches, int dim, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        PatchCoreOptions o = Options;
        float[] features = candidates.Features;
        int rows = originalRows * Math.Max(1, candidates.Copies);
        int originalImages = originalRows / patches;
        int target = Math.Max(1, (int)Math.Round(rows * o.CoresetRatio));
        // Forwarded on the reporting thread: Progress<T> would post to the thread pool, so coreset reports could
        // arrive after the next stage's.
        var coresetProgress = progress is null ? null : new StageProgress(progress, "coreset");
        int[] chosen = GreedyCoreset.Select(features, rows, dim, target, o.ProjectionDimensions, o.Seed, o.Threads, coresetProgress, cancellationToken);
        Array.Sort(chosen);
        float[] bank = new float[chosen.Length * dim];
        int[] sources = new int[chosen.Length];
        for (int i = 0; i < chosen.Length; i++)
        {
            features.AsSpan(chosen[i] * dim, dim).CopyTo(bank.AsSpan(i * dim, dim));
            int image = chosen[i] / patches;

            // A flipped copy belongs to the image it was made from.
            sources[i] = image < originalImages ? image : (image - originalImages) / Flips;
        }

        return (bank, sources);
    }

    private sealed class StageProgress(IProgress<TrainingProgress> target, string stage) : IProgress<double>
    {
        public void Report(double value) => target.Report(new TrainingProgress(stage, value));
    }

    /// <summary>Flipped copies learnt per normal image with <see cref="PatchCoreOptions.AugmentFlips"/>: mirrored left-right, top-bottom, and both (180 degrees).</summary>
    private const int Flips = 3;

    private static (ImageView View, Image? Owned) Flip((ImageView View, Image? Owned) source, int kind)
    {
        try
        {
            Image flipped = kind switch
            {
                0 => Orientation.FlipHorizontal(source.View),
                1 => Orientation.FlipVertical(source.View),
                _ => Orientation.Rotate180(source.View),
            };
            return (flipped.View(), flipped);
        }
        finally
        {
            source.Owned?.Dispose();
        }
    }

    /// <summary>Image order with the <paramref name="m"/> calibration images (evenly spaced) last.</summary>
    internal static int[] CalibrationOrder(int count, int m)
    {
        var calibration = new HashSet<int>();
        for (int k = 0; k < m; k++)
        {
            calibration.Add((int)(((k + 0.5) * count) / m));
        }

        return [.. Enumerable.Range(0, count).Where(i => !calibration.Contains(i)), .. calibration.Order()];
    }

    private float[] ExtractAll(PatchFeatureExtractor extractor, int count, Func<int, (ImageView View, Image? Owned)> open, string stage,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, float[]? context = null)
    {
        int perContext = extractor.Patches * PatchContext.Dimension;
        int per = extractor.Patches * extractor.Dimension;
        float[] features = new float[(long)count * per];
        int batch = Options.BatchSize;
        for (int start = 0; start < count; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(batch, count - start);
            var views = new ImageView[n];
            var owned = new Image?[n];
            try
            {
                for (int i = 0; i < n; i++)
                {
                    (views[i], owned[i]) = open(start + i);
                }

                extractor.Extract(views, features.AsSpan(start * per, n * per), cancellationToken);
                for (int i = 0; context is not null && i < n; i++)
                {
                    PatchContext.Features(views[i], extractor.GridWidth, extractor.GridHeight, context.AsSpan((start + i) * perContext, perContext));
                }
            }
            finally
            {
                foreach (Image? image in owned)
                {
                    image?.Dispose();
                }
            }

            progress?.Report(new TrainingProgress(stage, (double)(start + n) / count));
        }

        return features;
    }
}

/// <summary>What a trained PatchCore model needs besides its bank.</summary>
internal sealed record PatchCoreSettings(string[] Layers, int InputSize, int Tiles, int Neighbourhood, int BorderPatches, float MapSigma, int MinRegionArea, int BatchSize, int Threads,
    double CoresetRatio, int TrainingImages)
{
    /// <summary>The option <see cref="PatchCoreOptions.ContextWeight"/> (format property <c>context_weight</c>; absent = 0, no context).</summary>
    public double ContextWeight { get; init; }

    /// <summary>Mean and inverse covariance of the normal context features (<see cref="PatchContext.Fit"/>); empty = no context.</summary>
    public float[] ContextModel { get; init; } = [];

    /// <summary>Weight of the context score added to each patch distance.</summary>
    public float ContextScale { get; init; }

    /// <summary>The option <see cref="PatchCoreOptions.PositionWeight"/> (format property <c>position_weight</c>; absent = 0, no position features).</summary>
    public float PositionWeight { get; init; }
}

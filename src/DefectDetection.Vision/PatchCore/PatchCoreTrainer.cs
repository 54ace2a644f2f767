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
        LabeledImage[] anomalies = Options.Threshold.Source == AnomalyThresholdSource.Normals ? [] : dataset.Filter(x => !normal.Contains(x.Label)).InContentOrder(cancellationToken).ToArray();
        if (normals.Length == 0)
        {
            throw new ArgumentException($"The dataset has no image labelled {string.Join(" or ", Options.NormalLabels)} (labels: {string.Join(", ", dataset.Labels)}).", nameof(dataset));
        }

        return FitCore(normals.Length, i => Open(normals[i].ImagePath), anomalies.Length, i => Open(anomalies[i].ImagePath), progress, cancellationToken,
            [.. normals.Select(n => n.ImagePath)], [.. anomalies.Select(a => a.ImagePath)]);

        static (ImageView, Image?) Open(string path)
        {
            Image image = ImageCodecs.Load(path);
            return (image.View(), image);
        }
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    private PatchCoreModel FitCore(int normalCount, Func<int, (ImageView View, Image? Owned)> normal, int anomalyCount, Func<int, (ImageView View, Image? Owned)> anomaly,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, string[]? normalPaths = null, string[]? anomalyPaths = null)
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
        bool searchBorder = o.BorderPatches is null && (o.InputSize ?? 224) >= PatchCoreSearch.MinBorderSearchInput;
        if ((o.Tiles is null || (o.ContextWeight is null && o.PositionWeight is null) || searchBorder) && o.AutoConfig.Enabled)
        {
            (o, searchRecord) = PatchCoreSearch.Run(o, normalCount, normal, progress, cancellationToken, anomalyCount, anomaly);
        }

        o = Resolve(o, normalCount);
        int inputSize = o.InputSize ?? 224, tiles = o.Tiles ?? 1;
        BackboneSpec spec = o.Backbone!;
        (byte[] backbone, TensorLayoutOptions layout) = spec.Open();
        var extractor = new PatchFeatureExtractor(backbone, spec.Name, spec.Taps, inputSize, o.Neighbourhood, o.Threads, o.BatchSize, tiles, (float)o.PositionWeight!.Value, layout, o.MaxLayerFeatures ?? PatchFeatureExtractor.AutomaticLayerFeatures, spec.InputName);
        try
        {
            int patches = extractor.Patches, dim = extractor.Dimension;
            long total = (long)normalCount * patches * dim;
            if (total > Array.MaxLength)
            {
                throw new ArgumentException($"{normalCount} images x {patches} patches x {dim} features do not fit one array; use fewer images or a smaller input.");
            }

            // Every normal image's features, in content order.
            bool useContext = o.ContextWeight > 0;
            float[]? context = useContext ? new float[(long)normalCount * patches * PatchContext.Dimension] : null;
            float[] features = ExtractAll(extractor, normalCount, normal, "features", progress, cancellationToken, context);
            float[] flipped = o.AugmentFlips
                ? ExtractAll(extractor, Flips * normalCount, i => Flip(normal(i / Flips), i % Flips), "features", progress, cancellationToken)
                : [];
            float[] descriptors = o.NearestImages > 0 ? PatchBank.Describe(features, normalCount, patches, dim) : [];

            // Calibration: normal images scored out of fold, each fold against a bank (and context model) built from all
            // the other normal images, so every score is one of an image the bank has not seen.
            int[] calibration = o.Calibrate ? CalibrationImages(normalCount, o.Threshold.MaxCalibrationImages) : [];
            // Small sets are left out one image at a time, so that each fold's bank is nearly the model's.
            int folds = calibration.Length <= AnomalyThresholdOptions.LeaveOneOutUpTo ? calibration.Length : Math.Min(o.Threshold.Folds, calibration.Length);
            int perContext = patches * PatchContext.Dimension;
            float[] heldDist = new float[Math.Max(1, calibration.Length) * patches];
            float[] heldContext = context is null ? [] : new float[heldDist.Length];
            float[] dist = new float[patches], query = new float[patches * dim];
            progress?.Report(new TrainingProgress("calibration", 0));
            for (int f = 0; f < folds; f++)
            {
                int[] held = [.. Enumerable.Range(0, calibration.Length).Where(k => k % folds == f)];
                HashSet<int> heldImages = [.. held.Select(k => calibration[k])];
                int[] bankImages = [.. Enumerable.Range(0, normalCount).Where(i => !heldImages.Contains(i))];
                PatchBank foldBank = BankOf(o, bankImages, features, flipped, descriptors, patches, dim, null, cancellationToken);
                float[] foldContext = context is null ? [] : PatchContext.Fit(Gather(context, bankImages, perContext));
                foreach (int k in held)
                {
                    features.AsSpan(calibration[k] * patches * dim, patches * dim).CopyTo(query);
                    foldBank.Distances(query, 0, 1, patches, dist, o.Threads, cancellationToken);
                    dist.CopyTo(heldDist.AsSpan(k * patches, patches));
                    if (context is not null)
                    {
                        PatchContext.Score(context.AsSpan(calibration[k] * perContext, perContext), foldContext, heldContext.AsSpan(k * patches, patches));
                    }
                }

                progress?.Report(new TrainingProgress("calibration", (f + 1.0) / folds));
            }

            if (folds == 0)
            {
                progress?.Report(new TrainingProgress("calibration", 1));
            }

            // The model's bank and context model, from every normal image.
            PatchBank patchBank = BankOf(o, [.. Enumerable.Range(0, normalCount)], features, flipped, descriptors, patches, dim, progress, cancellationToken);
            float[] contextModel = context is null ? [] : PatchContext.Fit(context);
            if (folds == 0)
            {
                // A single image (or calibration off): scored against the bank it is in.
                features.AsSpan(0, patches * dim).CopyTo(query);
                patchBank.Distances(query, 0, 1, patches, dist, o.Threads, cancellationToken);
                dist.CopyTo(heldDist);
                if (context is not null)
                {
                    PatchContext.Score(context.AsSpan(0, perContext), contextModel, heldContext);
                }
            }

            // The context score's weight puts it in units of the patch distance, both measured by their spread over the
            // out-of-fold normal scores.
            float contextScale = 0;
            if (context is not null)
            {
                double sd = PatchContext.Std(heldDist), sc = PatchContext.Std(heldContext);
                contextScale = sc > 0 ? (float)(o.ContextWeight!.Value * Math.Max(sd, 1e-6) / sc) : 0;
            }

            int scored = Math.Max(1, calibration.Length);
            var normalScores = new List<double>(scored);
            for (int k = 0; k < scored; k++)
            {
                heldDist.AsSpan(k * patches, patches).CopyTo(dist);
                if (context is not null)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(heldContext.AsSpan(k * patches, patches), contextScale, dist, dist);
                }

                PatchCoreModel.ReplaceBorder(dist, extractor.GridWidth, extractor.GridHeight, o.BorderPatches!.Value);
                normalScores.Add(PatchCoreModel.ImageScore(dist));
            }

            // Labelled anomalies are scored as the model will score them: against the whole bank.
            var anomalyScores = new List<double>(anomalyCount);
            if (anomalyCount > 0)
            {
                float[]? aContext = useContext ? new float[(long)anomalyCount * perContext] : null;
                float[] aFeatures = ExtractAll(extractor, anomalyCount, anomaly, "calibration", null, cancellationToken, aContext);
                for (int a = 0; a < anomalyCount; a++)
                {
                    aFeatures.AsSpan(a * patches * dim, patches * dim).CopyTo(query);
                    patchBank.Distances(query, 0, 1, patches, dist, o.Threads, cancellationToken);
                    if (aContext is not null)
                    {
                        PatchCoreModel.AddContext(dist, aContext.AsSpan(a * perContext, perContext), contextModel, contextScale);
                    }

                    PatchCoreModel.ReplaceBorder(dist, extractor.GridWidth, extractor.GridHeight, o.BorderPatches!.Value);
                    anomalyScores.Add(PatchCoreModel.ImageScore(dist));
                }
            }

            // What the learner choice compares: the normals scored out of fold and the anomalies, with their files.
            OutOfFoldScores? outOfFold = normalPaths is null || anomalyPaths is null || calibration.Length == 0 ? null : new(
                [.. calibration.Select(i => normalPaths[i]), .. anomalyPaths.Take(anomalyCount)],
                [.. normalScores, .. anomalyScores]);

            // The anomalies' scores in ascending order: the threshold does not depend on the order they were given in.
            anomalyScores.Sort();
            features = [];
            flipped = [];
            double threshold = anomalyCount > 0
                ? AnomalyThreshold.FromLabelled(normalScores, anomalyScores, (double)normalCount / normalScores.Count)
                : AnomalyThreshold.FromNormals(normalScores, o.Threshold);
            (double mean, double std) = AnomalyThreshold.MeanStd(normalScores);
            double scale = std > 0 ? std : Math.Max(1e-6, 0.05 * Math.Abs(threshold));
            var settings = new PatchCoreSettings([.. extractor.Backbone.Layers], inputSize, tiles, o.Neighbourhood, o.BorderPatches!.Value, o.MapSigma, o.MinRegionArea, o.BatchSize, o.Threads, o.CoresetRatio!.Value, normalCount)
            {
                ContextModel = contextModel,
                ContextScale = contextScale,
                ContextWeight = o.ContextWeight!.Value,
                PositionWeight = (float)o.PositionWeight!.Value,
            };
            var model = new PatchCoreModel(extractor, settings, patchBank, threshold, scale, [.. normalScores]) { Search = searchRecord, OutOfFold = outOfFold };
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

    private static (float[] Bank, int[] Sources) BuildBank(PatchCoreOptions o, (float[] Features, int Copies) candidates, int originalRows, int patches, int dim, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        float[] features = candidates.Features;
        int rows = originalRows * Math.Max(1, candidates.Copies);
        int originalImages = originalRows / patches;
        int target = Math.Max(1, (int)Math.Round(rows * o.CoresetRatio!.Value));
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

    /// <summary>
    /// The settings left unset that the search did not choose, by their stated rules: the bank from the number of
    /// normal images, no context or position features, one ring of border patches.
    /// </summary>
    internal static PatchCoreOptions Resolve(PatchCoreOptions o, int normalCount)
    {
        bool large = normalCount > PatchCoreOptions.LargeSet;
        double ratio = o.CoresetRatio ?? (large ? 1 : 0.1);
        return o with
        {
            CoresetRatio = ratio,
            NearestImages = o.NearestImages ?? (large && ratio >= 1 ? 50 : 0),
            ContextWeight = o.ContextWeight ?? 0,
            PositionWeight = o.PositionWeight ?? 0,
            BorderPatches = o.BorderPatches ?? 1,
        };
    }

    /// <summary>
    /// The normal images scored out of fold to calibrate the threshold: all of them, or <paramref name="max"/> evenly
    /// spaced in content order; none for a single image.
    /// </summary>
    internal static int[] CalibrationImages(int count, int max) =>
        count < 2 ? [] : count <= max ? [.. Enumerable.Range(0, count)] : [.. Enumerable.Range(0, max).Select(k => (int)(((k + 0.5) * count) / max))];

    /// <summary>The memory bank of the given normal images (their flipped copies too) and its search.</summary>
    private static PatchBank BankOf(PatchCoreOptions o, int[] images, float[] features, float[] flipped, float[] descriptors, int patches, int dim, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int per = patches * dim;
        bool all = images.Length * per == features.Length;
        float[] own = all ? features : Gather(features, images, per);
        float[] copies = flipped.Length == 0 || all ? flipped : Gather(flipped, [.. images.SelectMany(i => Enumerable.Range(i * Flips, Flips))], per);
        (float[] bank, int[] sources) = BuildBank(o, WithFlips(own, copies, images.Length * per), images.Length * patches, patches, dim, progress, cancellationToken);
        float[] description = descriptors.Length == 0 || all ? descriptors : Gather(descriptors, images, dim);
        return new PatchBank(bank, sources, dim, description, o.NearestImages!.Value);
    }

    /// <summary>The blocks of <paramref name="per"/> values of the given indices, in that order.</summary>
    private static float[] Gather(ReadOnlySpan<float> values, int[] indices, int per)
    {
        float[] gathered = new float[(long)indices.Length * per];
        for (int i = 0; i < indices.Length; i++)
        {
            values.Slice(indices[i] * per, per).CopyTo(gathered.AsSpan(i * per, per));
        }

        return gathered;
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

using System.Buffers;
using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// A trained PatchCore-class anomaly detector: immutable memory bank of normal patch features and a threshold.
/// Safe to call from several threads at once. Holds the backbone session: dispose it when done.
/// </summary>
public sealed class PatchCoreModel : IDefectModel, ICropClassifier
{
    /// <summary>The task name written to model files.</summary>
    public const string TaskName = "anomaly";

    private const string DescriptorTensor = "image_descriptors";
    private const string BankTensor = "memory_bank";
    private const string SourceTensor = "bank_source";
    private readonly SharedResource<PatchFeatureExtractor> _shared;
    private readonly PatchFeatureExtractor _extractor;
    private readonly PatchCoreSettings _settings;
    private readonly PatchBank _patches;
    private int _disposed;

    internal PatchCoreModel(PatchFeatureExtractor extractor, PatchCoreSettings settings, PatchBank patches, double threshold, double scale, double[] calibrationScores)
        : this(new SharedResource<PatchFeatureExtractor>(extractor), settings, patches, threshold, scale, calibrationScores)
    {
    }

    private PatchCoreModel(SharedResource<PatchFeatureExtractor> shared, PatchCoreSettings settings, PatchBank patches, double threshold, double scale, double[] calibrationScores)
    {
        _shared = shared;
        _extractor = shared.Value;
        _settings = settings;
        _patches = patches;
        Threshold = threshold;
        ConfidenceScale = scale;
        CalibrationScores = calibrationScores;
    }

    /// <summary>The decision threshold on the image score (score &gt;= threshold is an anomaly); the map's mask uses it too.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    double? IDefectModel.Threshold => Threshold;

    /// <inheritdoc />
    public string Learner => Learners.PatchCore;

    /// <inheritdoc />
    public DefectTask Task => DefectTask.AnomalyDetection;

    /// <inheritdoc />
    public IReadOnlyList<string> Labels { get; } = ["normal", "anomaly"];

    /// <inheritdoc />
    public IReadOnlyList<string> NormalLabels { get; } = ["normal"];

    /// <summary>The score change that moves the confidence by one logit.</summary>
    public double ConfidenceScale { get; }

    /// <summary>What automatic configuration tried and chose (written into the model file), or null when nothing was searched.</summary>
    public TrainingSearch? Search { get; internal init; }

    /// <summary>The calibration normals' out-of-fold scores and the labelled anomalies' scores (not saved; null after loading).</summary>
    internal OutOfFoldScores? OutOfFold { get; init; }

    /// <summary>The same model (sharing its state) with another search record.</summary>
    internal PatchCoreModel WithSearch(TrainingSearch? search) =>
        new(_shared.Acquire(), _settings, _patches, Threshold, ConfidenceScale, [.. CalibrationScores]) { Search = search, OutOfFold = OutOfFold };

    /// <summary>Tiles a side the image is cut into for the backbone (1: the whole image).</summary>
    public int Tiles => _settings.Tiles;

    /// <summary>The backbone's input side in pixels.</summary>
    public int InputSide => _settings.InputSize;

    /// <summary>Held-out normal scores the threshold was calibrated on.</summary>
    public IReadOnlyList<double> CalibrationScores { get; }

    /// <summary>Rows in the memory bank.</summary>
    public int BankSize => Sources.Length;

    /// <summary>Features per patch.</summary>
    public int FeatureDimension => _extractor.Dimension;

    /// <summary>Patch grid width x height.</summary>
    public (int Width, int Height) Grid => (_extractor.GridWidth, _extractor.GridHeight);

    /// <summary>
    /// Bytes of the memory bank (features plus source index, plus one mean feature per training image with
    /// <see cref="NearestImages"/>), as stored in the model file. Scoring holds a second, panel-packed copy of the
    /// features for the nearest-neighbour search, so memory in use is about twice the features.
    /// </summary>
    public long MemoryBankBytes => ((long)Bank.Length * sizeof(float)) + ((long)Sources.Length * sizeof(int)) + ((long)_patches.Descriptors.Length * sizeof(float));

    /// <summary>Number of normal images the bank was built from.</summary>
    public int TrainingImages => _settings.TrainingImages;

    /// <summary>Training images whose bank rows each scored image is compared with (<see cref="PatchCoreOptions.NearestImages"/>); 0 = the whole bank.</summary>
    public int NearestImages => _patches.NearestImages;

    /// <summary>Tapped layers.</summary>
    public IReadOnlyList<string> Layers => _settings.Layers;

    /// <summary>Weight of the intensity context in the patch scores (<see cref="PatchCoreOptions.ContextWeight"/>; 0 = none).</summary>
    public double ContextWeight => _settings.ContextModel.Length > 0 ? _settings.ContextWeight : 0;

    /// <summary>Rings of edge patches whose scores are replaced by the nearest inner patch's (<see cref="PatchCoreOptions.BorderPatches"/>).</summary>
    public int BorderPatches => _settings.BorderPatches;

    /// <summary>Weight of the patch positions appended to the features (<see cref="PatchCoreOptions.PositionWeight"/>; 0 = none).</summary>
    public double PositionWeight => _settings.PositionWeight;

    /// <inheritdoc/>
    public CropSize? InputSize => null;

    internal float[] Bank => _patches.Bank;

    internal int[] Sources => _patches.Sources;

    /// <summary>Image scores only (no maps): the largest nearest-neighbour distance over the patches.</summary>
    /// <param name="images">Images of any size.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>One score per image.</returns>
    public double[] Score(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        double[] scores = new double[images.Count];
        RunBatches(images, (i, dist, _) => scores[i] = ImageScore(dist), cancellationToken);
        return scores;
    }

    /// <summary>Scores one image with map, mask and located regions.</summary>
    /// <param name="image">The image.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The prediction.</returns>
    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default) => Predict([image], cancellationToken)[0];

    /// <summary>Scores images with maps, masks and located regions.</summary>
    /// <param name="images">Images of any size.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>One prediction per image.</returns>
    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = new DefectPrediction[images.Count];
        RunBatches(images, (i, dist, query) =>
        {
            ImageView image = images[i];
            double score = ImageScore(dist);
            (int mw, int mh) = AnomalyMaps.MapSize(image.Width, image.Height);
            float[] map = AnomalyMaps.ToImage(dist, _extractor.GridWidth, _extractor.GridHeight, _extractor.CoveredSize, _extractor.CoveredSize, _settings.MapSigma, mw, mh);
            byte[] mask = AnomalyMaps.Mask(map, (float)Threshold);
            List<AnomalyRegion> regions = AnomalyMaps.Regions(mask, mw, mh, _settings.MinRegionArea, "anomaly");
            result[i] = AnomalyMaps.ToPrediction(score, Threshold, ConfidenceScale, map, mask, mw, mh, regions, image.Width, image.Height);
        }, cancellationToken);
        return result;
    }

    /// <inheritdoc/>
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<DefectPrediction> predictions = Predict(crops, cancellationToken);
        var verdicts = new CropVerdict[predictions.Count];
        for (int i = 0; i < verdicts.Length; i++)
        {
            verdicts[i] = AnomalyMaps.ToVerdict(predictions[i]);
        }

        return verdicts;
    }

    /// <inheritdoc />
    /// <remarks>The threshold is in the model's score units; <see cref="CalibrationScores"/> shows where the held-out normal images scored.</remarks>
    public IDefectModel WithThreshold(double threshold) =>
        new PatchCoreModel(_shared.Acquire(), _settings, _patches, ModelContract.ScoreThreshold(threshold), ConfidenceScale, [.. CalibrationScores]) { Search = Search };

    /// <inheritdoc />
    public ICropClassifier AsCropClassifier() => this;

    /// <summary>
    /// Writes the model as a <c>.ddmodel</c> file: the memory bank, the settings and, unless
    /// <see cref="DefectModelSaveOptions.EmbedBackbone"/> is false, the backbone ONNX (else referenced by name and SHA-256).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Save options.</param>
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
        TensorLayoutOptions layout = _extractor.Layout;
        var section = new PatchCoreSection
        {
            Tiles = _settings.Tiles,
            BorderPatches = _settings.BorderPatches,
            Neighbourhood = _settings.Neighbourhood,
            MapSigma = _settings.MapSigma,
            MinRegionArea = _settings.MinRegionArea,
            ConfidenceScale = ConfidenceScale,
            CoresetRatio = _settings.CoresetRatio,
            TrainingImages = _settings.TrainingImages,
            CalibrationScores = CalibrationScores,
            ContextWeight = _settings.ContextModel.Length > 0 ? _settings.ContextWeight : 0,
            ContextScale = _settings.ContextModel.Length > 0 ? _settings.ContextScale : 0,
            ContextModel = _settings.ContextModel.Length > 0 ? _settings.ContextModel : null,
            PositionWeight = _settings.PositionWeight,
            MaxLayerFeatures = _extractor.MaxLayerFeatures,
            NearestImages = _patches.NearestImages,
        };

        var manifest = new ModelManifest
        {
            Task = TaskName,
            Learner = Learners.PatchCore,
            Labels = ["normal", "anomaly"],
            Threshold = Threshold,
            Preprocessing = LayoutManifest.Describe(layout, "stretch"),
            Backbone = new BackboneInfo { Name = _extractor.Backbone.Name, Sha256 = _extractor.Backbone.Sha256, TappedLayers = _settings.Layers, Embedded = options.EmbedBackbone, Input = _extractor.Backbone.Spec.InputName },
            TrainingData = options.DataSource is null ? null : new TrainingDataSummary { ImageCount = TrainingImages, PerLabel = new Dictionary<string, int> { ["normal"] = TrainingImages }, Source = options.DataSource },
            PatchCore = section,
            Search = Search,
        };

        var tensors = new Dictionary<string, ModelTensor>
        {
            [BankTensor] = new ModelTensor([BankSize, FeatureDimension], Bank),
            [SourceTensor] = new ModelTensor([BankSize], Sources.Select(s => (float)s).ToArray()),
        };
        if (_patches.NearestImages > 0)
        {
            tensors[DescriptorTensor] = new ModelTensor([_patches.Descriptors.Length / FeatureDimension, FeatureDimension], _patches.Descriptors);
        }

        return new ModelPackage(manifest, tensors, options.EmbedBackbone ? _extractor.BackboneBytes : null);
    }

    /// <summary>Reads a model written by <see cref="Save(string, DefectModelSaveOptions?)"/> (through <see cref="DefectModel.Load(string, DefectModelLoadOptions?)"/>).</summary>
    /// <param name="path">The <c>.ddmodel</c> file.</param>
    /// <param name="backbonePath">The backbone file of a model that does not embed it (its SHA-256 must match the one recorded), else null.</param>
    /// <param name="threads">Threads for the backbone and search. Default: processor count.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelFileException">The file is not a PatchCore anomaly model or does not fit the backbone.</exception>
    internal static PatchCoreModel Load(string path, string? backbonePath, int threads = 0)
    {
        ModelPackage package = ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = backbonePath });
        ModelManifest m = package.Manifest;
        if (m.PatchCore is not { } p || m.Threshold is null || m.Backbone is null || !package.Tensors.ContainsKey(BankTensor) || !package.Tensors.ContainsKey(SourceTensor))
        {
            throw new ModelFileException(path, "manifest.json", "not a PatchCore anomaly model (section, threshold, backbone or tensors missing)");
        }

        threads = threads > 0 ? threads : Environment.ProcessorCount;
        TensorLayoutOptions layout = LayoutManifest.Read(path, m.Preprocessing);
        var settings = new PatchCoreSettings([.. m.Backbone.TappedLayers], layout.Width, p.Tiles, p.Neighbourhood, p.BorderPatches, p.MapSigma, p.MinRegionArea, 8, threads, p.CoresetRatio, p.TrainingImages)
        {
            ContextWeight = p.ContextWeight,
            ContextScale = p.ContextScale,
            ContextModel = p.ContextModel is null ? [] : [.. p.ContextModel],
            PositionWeight = p.PositionWeight,
        };
        if (settings.ContextModel.Length is not (0 or PatchContext.ModelLength) || !float.IsFinite(settings.ContextScale))
        {
            throw new ModelFileException(path, "manifest.json", "$.patchcore.context_model", $"holds {settings.ContextModel.Length} values, expected {PatchContext.ModelLength}");
        }

        if (!(settings.PositionWeight >= 0 && float.IsFinite(settings.PositionWeight)))
        {
            throw new ModelFileException(path, "manifest.json", "$.patchcore.position_weight", $"is {settings.PositionWeight}, expected a finite value >= 0");
        }

        // Every setting read back passes the rules the trainer's options apply, so an edited or corrupted file cannot
        // score with values training would have refused.
        try
        {
            new PatchCoreOptions
            {
                Backbone = BackboneSpec.FromBytes([], m.Backbone.Name.Length > 0 ? m.Backbone.Name : "backbone.onnx") with { Layout = layout, Taps = settings.Layers },
                InputSize = settings.InputSize,
                Tiles = p.Tiles,
                Neighbourhood = settings.Neighbourhood,
                BorderPatches = settings.BorderPatches,
                MapSigma = settings.MapSigma,
                MinRegionArea = settings.MinRegionArea,
                CoresetRatio = settings.CoresetRatio,
                ContextWeight = settings.ContextWeight,
                PositionWeight = settings.PositionWeight,
                MaxLayerFeatures = p.MaxLayerFeatures,
                NearestImages = p.NearestImages,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, "manifest.json", "$.patchcore", e.Message.Split(" (Parameter")[0], e);
        }

        if (!(p.ConfidenceScale > 0 && double.IsFinite(p.ConfidenceScale)) || !double.IsFinite(m.Threshold.Value) || settings.TrainingImages < 1)
        {
            throw new ModelFileException(path, "manifest.json", "$.patchcore", $"threshold {m.Threshold.Value}, confidence_scale {p.ConfidenceScale} and training_images {settings.TrainingImages} must be finite, > 0 and >= 1");
        }

        if (p.CalibrationScores.Any(c => !double.IsFinite(c)))
        {
            throw new ModelFileException(path, "manifest.json", "$.patchcore.calibration_scores", "holds a value that is not finite");
        }

        byte[] backboneBytes = package.EmbeddedBackbone ?? (backbonePath is not null ? File.ReadAllBytes(backbonePath)
            : throw new ModelFileException(path, "manifest.json", $"the model refers to the backbone '{m.Backbone.Name}' (SHA-256 {m.Backbone.Sha256}) without embedding it; give its file"));
        var extractor = new PatchFeatureExtractor(backboneBytes, m.Backbone.Name, settings.Layers, settings.InputSize, settings.Neighbourhood, threads, 8, p.Tiles, settings.PositionWeight, layout,
            p.MaxLayerFeatures, m.Backbone.Input);
        ModelTensor bank = package.GetTensor(BankTensor);
        ModelTensor sources = package.GetTensor(SourceTensor);
        if (bank.Shape.Count != 2 || bank.Shape[1] != extractor.Dimension || sources.Data.Length != bank.Shape[0])
        {
            extractor.Dispose();
            throw new ModelFileException(path, "tensors/" + BankTensor, $"the memory bank [{string.Join(", ", bank.Shape)}] does not fit {extractor.Dimension} features a patch");
        }

        if (bank.Shape[0] == 0)
        {
            extractor.Dispose();
            throw new ModelFileException(path, "tensors/" + BankTensor, "the memory bank is empty");
        }

        PatchBank patches = ReadBank(path, p.NearestImages, package, bank, sources, extractor);
        return new PatchCoreModel(extractor, settings, patches, m.Threshold.Value, p.ConfidenceScale, [.. p.CalibrationScores]) { Search = m.Search };
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _shared.Release();
        }
    }

    // The bank with its sources and, for "nearest_images" models, the training images' descriptors (disposes the extractor when refused).
    private static PatchBank ReadBank(string path, int nearest, ModelPackage package, ModelTensor bank, ModelTensor sources, PatchFeatureExtractor extractor)
    {
        int dim = extractor.Dimension;
        int[] rowSources = new int[sources.Data.Length];
        for (int r = 0; r < rowSources.Length; r++)
        {
            float s = sources.Data[r];
            if (!(s >= 0 && s < int.MaxValue) || s != MathF.Floor(s))
            {
                extractor.Dispose();
                throw new ModelFileException(path, "tensors/" + SourceTensor, $"row {r} has source image {s}, expected a whole number >= 0");
            }

            rowSources[r] = (int)s;
        }

        if (nearest < 0)
        {
            extractor.Dispose();
            throw new ModelFileException(path, "manifest.json", $"nearest_images is {nearest}, expected a value >= 0");
        }

        if (nearest == 0)
        {
            return new PatchBank(bank.Data, rowSources, dim, [], 0);
        }

        ModelTensor? descriptors = package.Tensors.ContainsKey(DescriptorTensor) ? package.GetTensor(DescriptorTensor) : null;
        int images = rowSources.Length == 0 ? 0 : rowSources.Max() + 1;
        if (descriptors is null || descriptors.Shape.Count != 2 || descriptors.Shape[1] != dim || descriptors.Shape[0] < images)
        {
            extractor.Dispose();
            string shape = descriptors is null ? "missing" : $"[{string.Join(", ", descriptors.Shape)}]";
            throw new ModelFileException(path, "tensors/" + DescriptorTensor, $"the training images' descriptors are {shape}; nearest_images needs [images >= {images}, {dim}]");
        }

        return new PatchBank(bank.Data, rowSources, dim, descriptors.Data, nearest);
    }

    private void RunBatches(IReadOnlyList<ImageView> images, Action<int, float[], ReadOnlyMemory<float>> perImage, CancellationToken cancellationToken)
    {
        int patches = _extractor.Patches, dim = _extractor.Dimension, batch = _settings.BatchSize;
        int rows = Math.Min(batch, Math.Max(1, images.Count)) * patches;

        // The batch's features (megabytes) come from the shared pool: the callbacks use them before the next batch.
        float[] features = ArrayPool<float>.Shared.Rent(rows * dim);
        float[] dist = ArrayPool<float>.Shared.Rent(rows);
        float[] one = new float[patches];
        float[] context = _settings.ContextModel.Length > 0 ? new float[patches * PatchContext.Dimension] : [];
        var views = new List<ImageView>(batch);
        try
        {
            for (int start = 0; start < images.Count; start += batch)
            {
                int n = Math.Min(batch, images.Count - start);
                views.Clear();
                for (int i = 0; i < n; i++)
                {
                    views.Add(images[start + i]);
                }

                _extractor.Extract(views, features, cancellationToken);
                _patches.Distances(features, 0, n, patches, dist, _settings.Threads, cancellationToken);
                for (int i = 0; i < n; i++)
                {
                    dist.AsSpan(i * patches, patches).CopyTo(one);
                    if (context.Length > 0)
                    {
                        PatchContext.Features(views[i], _extractor.GridWidth, _extractor.GridHeight, context);
                        AddContext(one, context, _settings.ContextModel, _settings.ContextScale);
                    }

                    ReplaceBorder(one, _extractor.GridWidth, _extractor.GridHeight, _settings.BorderPatches);
                    perImage(start + i, one, features.AsMemory(i * patches * dim, patches * dim));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
            ArrayPool<float>.Shared.Return(dist);
        }
    }

    /// <summary>Adds <paramref name="scale"/> x the context score (<see cref="PatchContext.Score"/>) of each patch to its distance.</summary>
    internal static void AddContext(Span<float> dist, ReadOnlySpan<float> contextFeatures, ReadOnlySpan<float> contextModel, float scale)
    {
        Span<float> score = dist.Length <= 1024 ? stackalloc float[dist.Length] : new float[dist.Length];
        PatchContext.Score(contextFeatures, contextModel, score);
        for (int p = 0; p < dist.Length; p++)
        {
            dist[p] += scale * score[p];
        }
    }

    /// <summary>Replaces the outer <paramref name="border"/> rings of a gw x gh score grid by the nearest inner score.</summary>
    internal static void ReplaceBorder(Span<float> scores, int gw, int gh, int border)
    {
        if (border <= 0 || gw <= 2 * border || gh <= 2 * border)
        {
            return;
        }

        for (int y = 0; y < gh; y++)
        {
            int sy = Math.Clamp(y, border, gh - 1 - border);
            for (int x = 0; x < gw; x++)
            {
                int sx = Math.Clamp(x, border, gw - 1 - border);
                if (sx != x || sy != y)
                {
                    scores[(y * gw) + x] = scores[(sy * gw) + sx];
                }
            }
        }
    }

    /// <summary>The image score: the largest patch score (PatchCore's).</summary>
    internal static double ImageScore(float[] patchScores) => System.Numerics.Tensors.TensorPrimitives.Max(patchScores);
}

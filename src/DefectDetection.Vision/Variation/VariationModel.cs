using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Variation;

/// <summary>
/// A variation model: per-pixel mean and spread of aligned normal images. The anomaly map is the larger of the bright
/// and dark exceedances, (v - mean) / tolBright and (mean - v) / tolDark with tol = max(absolute, relative x spread):
/// 1 is the edge of the tolerance band, and the default threshold. Immutable and thread-safe.
/// </summary>
public sealed class VariationModel : IDefectModel, ICropClassifier
{
    /// <summary>Mask value of dark defect pixels (bright ones are 255).</summary>
    public const byte DarkMaskValue = 128;

    private readonly VariationModelOptions _options;
    private readonly float[] _mean;
    private readonly float[] _spread;

    private const double ConfidenceScale = 0.25;

    internal VariationModel(VariationModelOptions options, int width, int height, float[] mean, float[] spread, double threshold = 1)
    {
        Threshold = threshold;
        _options = options;
        Width = width;
        Height = height;
        _mean = mean;
        _spread = spread;
    }

    /// <summary>Model width.</summary>
    public int Width { get; }

    /// <summary>Model height.</summary>
    public int Height { get; }

    /// <summary>The threshold on the score and the map (default 1: some pixel leaves its tolerance band).</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    double? IDefectModel.Threshold => Threshold;

    /// <inheritdoc />
    public string Learner => Learners.VariationModel;

    /// <inheritdoc />
    public DefectTask Task => DefectTask.AnomalyDetection;

    /// <inheritdoc />
    public IReadOnlyList<string> Labels { get; } = ["normal", "anomaly"];

    /// <inheritdoc />
    public IReadOnlyList<string> NormalLabels { get; } = ["normal"];

    /// <inheritdoc/>
    public CropSize? InputSize => null;

    internal ReadOnlySpan<float> Mean => _mean;

    internal ReadOnlySpan<float> Spread => _spread;

    /// <summary>Scores one image: map, bright (255) and dark (<see cref="DarkMaskValue"/>) mask, regions labelled "bright"/"dark".</summary>
    /// <param name="image">The image (stretched to the model size, then aligned by translation).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The prediction at the image's size.</returns>
    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        float threshold = (float)Threshold;
        int w = Width, h = Height;
        float[] g = VariationModelTrainer.Gray(image, w, h);
        (int sx, int sy) = VariationModelTrainer.Align(_mean, g, w, h, _options.MaxShift);
        float[] map = new float[w * h], darkMap = new float[w * h];
        for (int y = 0; y < h; y++)
        {
            int my = Math.Clamp(y - sy, 0, h - 1);
            for (int x = 0; x < w; x++)
            {
                int mp = (my * w) + Math.Clamp(x - sx, 0, w - 1);
                float m = _mean[mp], s = _spread[mp], v = g[(y * w) + x];
                float tb = Math.Max(_options.AbsoluteBright, _options.RelativeBright * s);
                float td = Math.Max(_options.AbsoluteDark, _options.RelativeDark * s);
                map[(y * w) + x] = (v - m) / tb;
                darkMap[(y * w) + x] = (m - v) / td;
            }
        }

        if (_options.MapSigma > 0)
        {
            GaussianBlur.Apply(map, w, h, map, _options.MapSigma);
            GaussianBlur.Apply(darkMap, w, h, darkMap, _options.MapSigma);
        }

        // Bright and dark exceedances are smoothed apart, so a dark spot's blur cannot read as bright.
        byte[] modelMask = new byte[w * h];
        for (int p = 0; p < map.Length; p++)
        {
            bool isDark = darkMap[p] > map[p];
            map[p] = Math.Max(map[p], darkMap[p]);
            if (map[p] >= threshold)
            {
                modelMask[p] = isDark ? DarkMaskValue : (byte)255;
            }
        }

        double score = System.Numerics.Tensors.TensorPrimitives.Max(map);
        (int iw, int ih) = AnomalyMaps.MapSize(image.Width, image.Height);
        float[] imageMap = map;
        byte[] mask = modelMask;
        if (iw != w || ih != h)
        {
            imageMap = new float[iw * ih];
            ImageResizer.Resize(map, w, h, imageMap, iw, ih, ResizeMode.Bilinear);
            mask = new byte[iw * ih];
            for (int y = 0; y < ih; y++)
            {
                int my = Math.Min(h - 1, (int)((y + 0.5) * h / ih));
                for (int x = 0; x < iw; x++)
                {
                    mask[(y * iw) + x] = modelMask[(my * w) + Math.Min(w - 1, (int)((x + 0.5) * w / iw))];
                }
            }
        }

        byte[] bright = new byte[mask.Length], dark = new byte[mask.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            bright[i] = mask[i] == 255 ? (byte)1 : (byte)0;
            dark[i] = mask[i] == DarkMaskValue ? (byte)1 : (byte)0;
        }

        List<AnomalyRegion> regions = AnomalyMaps.Regions(bright, iw, ih, _options.MinRegionArea, "bright");
        regions.AddRange(AnomalyMaps.Regions(dark, iw, ih, _options.MinRegionArea, "dark"));
        regions.Sort((a, b) => b.Area.CompareTo(a.Area));
        return AnomalyMaps.ToPrediction(score, Threshold, ConfidenceScale, imageMap, mask, iw, ih, regions, image.Width, image.Height);
    }

    /// <inheritdoc />
    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return images.Select(i => Predict(i, cancellationToken)).ToArray();
    }

    /// <inheritdoc />
    public IDefectModel WithThreshold(double threshold) =>
        new VariationModel(_options, Width, Height, _mean, _spread, threshold > 0 ? ModelContract.ScoreThreshold(threshold)
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The variation model's threshold is in tolerance bands: give a value > 0 (1 is the band's edge)."));

    /// <inheritdoc />
    public ICropClassifier AsCropClassifier() => this;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <inheritdoc/>
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crops);
        var result = new CropVerdict[crops.Count];
        for (int i = 0; i < result.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[i] = AnomalyMaps.ToVerdict(Predict(crops[i], cancellationToken));
        }

        return result;
    }

    /// <summary>Writes the model as a <c>.ddmodel</c> file (mean and spread tensors, tolerances as properties).</summary>
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
        VariationModelOptions o = _options;
        var manifest = new ModelManifest
        {
            Task = PatchCoreModel.TaskName,
            Learner = Learners.VariationModel,
            Labels = ["normal", "anomaly"],
            Threshold = Threshold,
            Variation = new VariationSection
            {
                AbsoluteBright = o.AbsoluteBright,
                AbsoluteDark = o.AbsoluteDark,
                RelativeBright = o.RelativeBright,
                RelativeDark = o.RelativeDark,
                MaxShift = o.MaxShift,
                MapSigma = o.MapSigma,
                MinRegionArea = o.MinRegionArea,
            },
        };
        return new ModelPackage(manifest, new Dictionary<string, ModelTensor>
        {
            ["mean"] = new ModelTensor([Height, Width], _mean),
            ["spread"] = new ModelTensor([Height, Width], _spread),
        });
    }

    /// <summary>Reads a model written by <see cref="Save(string, DefectModelSaveOptions?)"/> (through <see cref="DefectModel.Load(string, DefectModelLoadOptions?)"/>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelFileException">Not a variation model, or malformed.</exception>
    internal static VariationModel Load(string path)
    {
        ModelPackage package = ModelPackage.Load(path);
        if (package.Manifest.Variation is not { } p
            || !package.Tensors.TryGetValue("mean", out ModelTensor? mean) || !package.Tensors.TryGetValue("spread", out ModelTensor? spread)
            || mean.Shape.Count != 2 || !mean.Shape.SequenceEqual(spread.Shape))
        {
            throw new ModelFileException(path, "manifest.json", "not a variation model (section or mean/spread tensors missing or mismatched)");
        }

        try
        {
            var o = new VariationModelOptions
            {
                Width = mean.Shape[1],
                Height = mean.Shape[0],
                AbsoluteBright = p.AbsoluteBright,
                AbsoluteDark = p.AbsoluteDark,
                RelativeBright = p.RelativeBright,
                RelativeDark = p.RelativeDark,
                MaxShift = p.MaxShift,
                MapSigma = p.MapSigma,
                MinRegionArea = p.MinRegionArea,
            };
            o.Validate();
            double threshold = package.Manifest.Threshold ?? 1;
            if (!(threshold > 0 && double.IsFinite(threshold)))
            {
                throw new ModelFileException(path, "manifest.json", $"threshold is {threshold}, expected a finite value > 0");
            }

            return new VariationModel(o, mean.Shape[1], mean.Shape[0], mean.Data, spread.Data, threshold);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, "manifest.json", "$.variation_model", e.Message.Split(" (Parameter")[0], e);
        }
    }
}

using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.PinResidual;

/// <summary>
/// A crop classifier for crops centred on one kind of object (pins, pads, screws): each crop is aligned to the
/// object to sub-pixel accuracy and compared with the closest of several per-pixel normal models (mean and spread,
/// a mixture of variation models). Pixels brighter than the model allows form regions; a small softmax head on each
/// region's shape says whether it is a defect and of which kind. A region inside the object is reported with the
/// object's box, a region beside it with its own box (<see cref="CropVerdict.LocalizedDefects"/>), and only by the
/// crop whose object it lies nearest (neighbouring objects are part of the normal models), so that neighbouring
/// crops do not report it twice. Immutable and thread-safe.
/// </summary>
public sealed class ResidualCropClassifier : IDefectModel, ICropClassifier
{
    /// <summary>The label of regions that are not defects.</summary>
    public const string NormalLabel = "normal";

    /// <summary>The task name in the manifest of this classifier's model files.</summary>
    internal const string TaskName = "pin_residual_classification";

    private const string ManifestEntry = "manifest.json";

    internal const int FeatureCount = 9;

    private readonly ResidualCropClassifierOptions _o;
    private readonly float[] _reference;
    private readonly float[][] _means;
    private readonly float[][] _spreads;
    private readonly ModelLayout[] _layouts;
    private readonly SoftmaxClassifierModel? _head;
    private readonly int _normalIndex;
    private readonly int[] _coreIndices;
    private readonly string _defectLabel;

    internal ResidualCropClassifier(ResidualCropClassifierOptions options, int size, float[] reference, float[][] means, float[][] spreads, SoftmaxClassifierModel? head, string defectLabel = "anomaly",
        double threshold = 0.5)
    {
        Threshold = threshold;
        _defectLabel = defectLabel;
        _o = options;
        Size = size;
        _reference = reference;
        _means = means;
        _spreads = spreads;
        _head = head;
        _normalIndex = head is null ? -1 : head.Labels.ToList().IndexOf(NormalLabel);
        _coreIndices = CoreIndices(reference, size);
        _layouts = [.. means.Select(m => ModelLayout.Of(m, size))];
    }

    /// <summary>Side of the square model in pixels.</summary>
    public int Size { get; }

    /// <summary>Number of normal models.</summary>
    public int Prototypes => _means.Length;

    /// <summary>The labels the head tells apart (with <see cref="NormalLabel"/>); without a head, <see cref="NormalLabel"/> and the one defect label.</summary>
    public IReadOnlyList<string> Labels => _head?.Labels ?? [NormalLabel, _defectLabel];

    /// <inheritdoc />
    public string Learner => Learners.PinResidual;

    /// <inheritdoc />
    public DefectTask Task => DefectTask.RegionClassification;

    /// <inheritdoc />
    public IReadOnlyList<string> NormalLabels { get; } = [NormalLabel];

    /// <summary>
    /// The threshold on an excess region's P(defect) = 1 - P(<see cref="NormalLabel"/>) (default 0.5);
    /// <see cref="DefectPrediction.Score"/> of a crop is its most defective region's. Without a head every reported
    /// region is a defect.
    /// </summary>
    public double Threshold { get; }

    /// <inheritdoc />
    double? IDefectModel.Threshold => Threshold;

    /// <summary>Judges one crop centred on an object: the defects are located in crop coordinates.</summary>
    /// <param name="image">The crop.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default) => Predict([image], cancellationToken)[0];

    /// <inheritdoc />
    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<CropVerdict> verdicts = Classify(images, cancellationToken);
        DefectPrediction[] result = new DefectPrediction[verdicts.Count];
        for (int i = 0; i < result.Length; i++)
        {
            CropVerdict v = verdicts[i];
            Dictionary<string, float> scores = Labels.ToDictionary(l => l, _ => 0f, StringComparer.Ordinal);
            scores[NormalLabel] = 1 - v.Score;
            if (v.IsDefect)
            {
                scores[v.Label] = v.Score;
            }

            result[i] = new DefectPrediction
            {
                ImageWidth = images[i].Width,
                ImageHeight = images[i].Height,
                IsDefect = v.IsDefect,
                Label = v.Label,
                LabelScores = scores,
                Score = v.Score,
                Threshold = Threshold,
                Confidence = v.Confidence,
                Defects = [.. (v.LocalizedDefects ?? []).OrderByDescending(d => d.Confidence)],
            };
        }

        return result;
    }

    /// <inheritdoc />
    public IDefectModel WithThreshold(double threshold) =>
        new ResidualCropClassifier(_o, Size, _reference, _means, _spreads, _head, _defectLabel, ModelContract.ProbabilityThreshold(threshold));

    /// <inheritdoc />
    public ICropClassifier AsCropClassifier() => this;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>
    /// Writes the classifier as a <c>.ddmodel</c> file: the options in the manifest; the reference plane, the normal
    /// models (means and spreads) and the head as tensors.
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
        ResidualCropClassifierOptions o = _o;
        var section = new PinResidualSection
        {
            ChannelWeights = [.. o.ChannelWeights],
            Size = Size,
            MaxShift = o.MaxShift,
            Prototypes = o.Prototypes,
            ExcessThreshold = o.ExcessThreshold,
            SpreadFactor = o.SpreadFactor,
            SpreadFloor = o.SpreadFloor,
            MinArea = o.MinArea,
            ReportRadius = o.ReportRadius,
            MinObjectLevel = o.MinObjectLevel,
            JoinDistance = o.JoinDistance,
            BoxMargin = o.BoxMargin,
            Seed = o.Seed,
            DefectLabel = _defectLabel,
            Head = _head is null ? "none" : "softmax",
        };
        int plane = Size * Size;
        Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal)
        {
            ["reference"] = new ModelTensor([Size, Size], _reference),
            ["means"] = new ModelTensor([_means.Length, plane], [.. _means.SelectMany(m => m)]),
            ["spreads"] = new ModelTensor([_spreads.Length, plane], [.. _spreads.SelectMany(m => m)]),
        };
        if (_head is not null)
        {
            foreach ((string name, ModelTensor t) in _head.ToTensors())
            {
                tensors[name] = t;
            }
        }

        ModelManifest manifest = new() { Task = TaskName, Learner = Learners.PinResidual, Labels = [.. Labels], Threshold = Threshold, PinResidual = section };
        return new ModelPackage(manifest, tensors);
    }

    /// <summary>Loads a classifier written by <see cref="Save(string, DefectModelSaveOptions?)"/> (through <see cref="DefectModel.Load(string, DefectModelLoadOptions?)"/>).</summary>
    /// <exception cref="ModelFileException">The file is not a pin-residual classifier, or a property or tensor is missing or out of range (the message names it).</exception>
    internal static ResidualCropClassifier Load(string path)
    {
        string full = Path.GetFullPath(path);
        ModelPackage package = ModelPackage.Load(full);
        ModelManifest m = package.Manifest;
        if (m.Task != TaskName)
        {
            throw new ModelFileException(full, ManifestEntry, $"task: the model is a '{m.Task}' model, not a pin-residual classifier ('{TaskName}')");
        }

        PinResidualSection p = m.PinResidual ?? throw new ModelFileException(full, ManifestEntry, "$.pin_residual", "missing");
        Range("size", p.Size, 1, 1024);
        Range("max_shift", p.MaxShift, 0, 16);
        Range("prototypes", p.Prototypes, 1, 1024);
        Range("min_area", p.MinArea, 1, 1 << 24);
        Range("join_distance", p.JoinDistance, 0, 1 << 16);
        Range("box_margin", p.BoxMargin, 0, 1 << 16);
        foreach ((string key, double v) in new[] { ("excess_threshold", (double)p.ExcessThreshold), ("spread_factor", p.SpreadFactor), ("spread_floor", p.SpreadFloor), ("report_radius", p.ReportRadius), ("min_object_level", p.MinObjectLevel) }
            .Concat(p.ChannelWeights.Select(w => ("channel_weights", (double)w))))
        {
            if (!double.IsFinite(v))
            {
                throw new ModelFileException(full, ManifestEntry, "$.pin_residual." + key, $"{v} is not a finite number");
            }
        }

        if (string.IsNullOrEmpty(p.DefectLabel) || p.Head is not ("softmax" or "none"))
        {
            throw new ModelFileException(full, ManifestEntry, "$.pin_residual", $"defect_label must be non-empty and head softmax or none (found '{p.DefectLabel}', '{p.Head}')");
        }

        ResidualCropClassifierOptions options = new()
        {
            ChannelWeights = [.. p.ChannelWeights],
            Size = p.Size,
            MaxShift = p.MaxShift,
            Prototypes = p.Prototypes,
            ExcessThreshold = p.ExcessThreshold,
            SpreadFactor = p.SpreadFactor,
            SpreadFloor = p.SpreadFloor,
            MinArea = p.MinArea,
            ReportRadius = p.ReportRadius,
            MinObjectLevel = p.MinObjectLevel,
            JoinDistance = p.JoinDistance,
            BoxMargin = p.BoxMargin,
            Seed = p.Seed,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(full, ManifestEntry, "$.pin_residual", e.Message.Split(" (Parameter")[0], e);
        }

        int size = options.Size, plane = size * size;
        ModelTensor reference = Tensor("reference", [size, size]);
        ModelTensor means = package.GetTensor("means");
        int count = means.Shape.Count == 2 ? means.Shape[0] : -1;
        if (count < 1 || count > options.Prototypes)
        {
            throw new ModelFileException(full, "tensors/means.f32", $"shape [{string.Join(", ", means.Shape)}]: expected [1..{options.Prototypes}, {plane}]");
        }

        Tensor("means", [count, plane]);
        ModelTensor spreads = Tensor("spreads", [count, plane]);
        if (spreads.Data.Any(v => v < 0))
        {
            throw new ModelFileException(full, "tensors/spreads.f32", "a spread is negative");
        }

        SoftmaxClassifierModel? head = null;
        if (p.Head == "softmax")
        {
            try
            {
                head = SoftmaxClassifierModel.FromTensors(m.Labels, package.Tensors);
            }
            catch (InvalidDataException e)
            {
                throw new ModelFileException(full, "tensors", e.Message, e);
            }

            if (head.FeatureLength != FeatureCount)
            {
                throw new ModelFileException(full, "tensors", $"the head takes {head.FeatureLength} features; expected {FeatureCount}");
            }
        }

        double threshold = m.Threshold ?? 0.5;
        if (!(threshold > 0 && threshold < 1))
        {
            throw new ModelFileException(full, ManifestEntry, $"threshold: {threshold} is not a probability in (0, 1)");
        }

        float[][] meanRows = [.. Enumerable.Range(0, count).Select(i => means.Data.AsSpan(i * plane, plane).ToArray())];
        float[][] spreadRows = [.. Enumerable.Range(0, count).Select(i => spreads.Data.AsSpan(i * plane, plane).ToArray())];
        return new ResidualCropClassifier(options, size, reference.Data, meanRows, spreadRows, head, p.DefectLabel, threshold);

        void Range(string key, int v, int min, int max)
        {
            if (v < min || v > max)
            {
                throw new ModelFileException(full, ManifestEntry, "$.pin_residual." + key, $"{v} is not in [{min}, {max}]");
            }
        }

        ModelTensor Tensor(string name, int[] shape)
        {
            ModelTensor t = package.GetTensor(name);
            return t.Shape.SequenceEqual(shape)
                ? t
                : throw new ModelFileException(full, $"tensors/{name}.f32", $"shape [{string.Join(", ", t.Shape)}]: expected [{string.Join(", ", shape)}]");
        }
    }

    /// <inheritdoc />
    public CropSize? InputSize => null;

    /// <inheritdoc />
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crops);
        CropVerdict[] verdicts = new CropVerdict[crops.Count];
        float[] features = new float[FeatureCount];
        float[] probabilities = new float[_head?.Labels.Count ?? 0];
        Scratch scratch = new();
        for (int i = 0; i < crops.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Analysis a = Analyze(crops[i], scratch);
            List<(Region Region, string Label, float Confidence)> judged = [];
            float peak = 0; // the largest P(defect) of any reportable region, whatever the threshold
            foreach (Region r in a.Regions)
            {
                if (!r.Reportable)
                {
                    continue;
                }

                (string label, float confidence) = Judge(r, features, probabilities);
                peak = Math.Max(peak, confidence);
                if (label != NormalLabel)
                {
                    judged.Add((r, label, confidence));
                }
            }

            List<Defect> found = [];
            foreach ((Region r, string label, float confidence) in judged)
            {
                // Excess inside the object (over a hole) that comes within JoinDistance of excess beside it is one
                // piece lying over the object: it widens that piece's box instead of making an object-level defect.
                if (r.Inside && _o.JoinDistance > 0 && judged.Any(o => !o.Region.Inside && Gap(o.Region.Bounds, r.Bounds) <= _o.JoinDistance))
                {
                    continue;
                }

                Rectangle box = r.Bounds;
                if (!r.Inside && _o.JoinDistance > 0)
                {
                    foreach ((Region inner, _, _) in judged.Where(o => o.Region.Inside && Gap(o.Region.Bounds, r.Bounds) <= _o.JoinDistance))
                    {
                        box = Rectangle.Union(box, inner.Bounds);
                    }
                }

                found.Add(new Defect(a.ToCrop(r.Inside ? _layouts[a.Model].Central : box.Inflate(_o.BoxMargin)), label, confidence));
            }

            if (found.Count == 0)
            {
                verdicts[i] = new CropVerdict(NormalLabel, false, ModelContract.Calibrate(peak, Threshold), peak);
                continue;
            }

            Defect best = found.MaxBy(d => d.Confidence)!;
            verdicts[i] = new CropVerdict(best.Label, true, ModelContract.Calibrate(best.Confidence, Threshold), peak)
            {
                LocalizedDefects = [.. found.Select(d => d with { Confidence = ModelContract.Calibrate(d.Confidence, Threshold) })],
            };
        }

        return verdicts;
    }

    // The Chebyshev gap between two boxes (0 when they touch or overlap).
    private static int Gap(Rectangle a, Rectangle b) =>
        Math.Max(Math.Max(0, Math.Max(a.X - b.Right, b.X - a.Right)), Math.Max(0, Math.Max(a.Y - b.Bottom, b.Y - a.Bottom)));

    private (string Label, float Confidence) Judge(Region r, float[] features, float[] probabilities)
    {
        if (_head is null)
        {
            return (_defectLabel, 1f);
        }

        r.Features.CopyTo(features);
        _head.PredictProbabilities(features, probabilities);
        float normal = _normalIndex >= 0 ? probabilities[_normalIndex] : 0;
        if (1 - normal < Threshold)
        {
            return (NormalLabel, 1 - normal);
        }

        int best = -1;
        for (int k = 0; k < probabilities.Length; k++)
        {
            if (k != _normalIndex && (best < 0 || probabilities[k] > probabilities[best]))
            {
                best = k;
            }
        }

        return (_head.Labels[best], 1 - normal);
    }

    /// <summary>Aligns one crop, picks its normal model and finds its excess regions.</summary>
    internal Analysis Analyze(ImageView crop, Scratch? scratch = null)
    {
        (float[] v, double ox, double oy, bool isObject) = Normalize(crop, _reference, _coreIndices, Size, _o, scratch);
        if (!isObject)
        {
            return new Analysis(-1, ox, oy, []);
        }

        int model = ClosestModel(v);
        return new Analysis(model, ox, oy, FindRegions(v, _means[model], _spreads[model], _layouts[model], Size, _o, scratch));
    }

    private int ClosestModel(float[] v)
    {
        int best = 0;
        double bestCost = double.PositiveInfinity;
        for (int k = 0; k < _means.Length; k++)
        {
            double cost = TruncatedL1(v, _means[k], bestCost);
            if (cost < bestCost)
            {
                (best, bestCost) = (k, cost);
            }
        }

        return best;
    }

    // Sum of min(|a - b|, 1), stopping early once it passes 'limit'.
    internal static double TruncatedL1(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double limit)
    {
        double sum = 0;
        for (int start = 0; start < a.Length; start += 512)
        {
            int end = Math.Min(a.Length, start + 512);
            float part = 0;
            for (int p = start; p < end; p++)
            {
                part += Math.Min(Math.Abs(a[p] - b[p]), 1f);
            }

            sum += part;
            if (sum >= limit)
            {
                break;
            }
        }

        return sum;
    }

    /// <summary>One region brighter than the model allows, in model coordinates.</summary>
    internal sealed record Region(Rectangle Bounds, int Area, bool Inside, bool Reportable, float[] Features);

    /// <summary>The outcome of <see cref="Analyze"/>: the chosen model, the crop offset of the model origin, the regions.</summary>
    internal sealed record Analysis(int Model, double OffsetX, double OffsetY, List<Region> Regions)
    {
        public Rectangle ToCrop(Rectangle box) => Rectangle.FromEdges(
            (int)Math.Floor(box.X + OffsetX), (int)Math.Floor(box.Y + OffsetY), (int)Math.Ceiling(box.Right + OffsetX), (int)Math.Ceiling(box.Bottom + OffsetY));

        public Rectangle ToModel(Rectangle box) => Rectangle.FromEdges(
            (int)Math.Floor(box.X - OffsetX), (int)Math.Floor(box.Y - OffsetY), (int)Math.Ceiling(box.Right - OffsetX), (int)Math.Ceiling(box.Bottom - OffsetY));
    }

    // --- shared with the trainer -------------------------------------------------------------------------------

    /// <summary>Working buffers reused from crop to crop by one caller (one batch); not thread-safe.</summary>
    internal sealed class Scratch
    {
        private float[] _plane = [], _map = [], _excess = [], _window = [];
        private byte[] _mask = [];
        private int[] _labels = [];

        public float[] Plane(int n) => Grow(ref _plane, n);

        public float[] Map(int n) => Grow(ref _map, n);

        public float[] Excess(int n) => Grow(ref _excess, n);

        public float[] Window(int n) => Grow(ref _window, n);

        public byte[] Mask(int n) => Grow(ref _mask, n);

        public int[] Labels(int n) => Grow(ref _labels, n);

        private static T[] Grow<T>(ref T[] buffer, int n)
        {
            if (buffer.Length < n)
            {
                buffer = new T[n];
            }

            return buffer;
        }
    }

    /// <summary>The crop's value plane at its own size.</summary>
    internal static float[] Plane(ImageView crop, IReadOnlyList<float> w, Scratch? scratch = null)
    {
        int width = crop.Width, height = crop.Height, c = crop.Channels;
        float[] plane = scratch?.Plane(width * height) ?? new float[width * height];
        float w0 = w[0], w1 = w[1], w2 = w[2];
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = crop.GetRow(y);
            Span<float> dst = plane.AsSpan(y * width, width);
            if (c >= 3)
            {
                for (int x = 0; x < width; x++)
                {
                    int i = x * c;
                    dst[x] = (w0 * row[i]) + (w1 * row[i + 1]) + (w2 * row[i + 2]);
                }
            }
            else
            {
                for (int x = 0; x < width; x++)
                {
                    dst[x] = row[x * c];
                }
            }
        }

        return plane;
    }

    /// <summary>
    /// Aligns a crop to <paramref name="reference"/> (a size x size map, null: centre it unaligned) and returns the
    /// resampled, level-normalised map with the crop position of model pixel (0, 0). With <paramref name="scratch"/>
    /// the map is its buffer (valid until the next call).
    /// </summary>
    internal static (float[] Map, double OffsetX, double OffsetY, bool IsObject) Normalize(ImageView crop, float[]? reference, int[]? core, int size, ResidualCropClassifierOptions o, Scratch? scratch = null)
    {
        int w = crop.Width, h = crop.Height;
        float[] plane = Plane(crop, o.ChannelWeights, scratch);
        double ox = ((w - 1) / 2.0) - ((size - 1) / 2.0), oy = ((h - 1) / 2.0) - ((size - 1) / 2.0);

        // A first level: the 90th percentile of the central window, where the object lies.
        int half = Math.Max(2, size / 4), c0 = (size - 1) / 2;
        float level0 = Percentile(plane, w, h, (int)Math.Round(ox) + c0 - half, (int)Math.Round(oy) + c0 - half, (2 * half) + 1, 0.9, scratch);
        if (Math.Abs(level0) < 1e-3f)
        {
            level0 = 1;
        }

        if (reference is not null && o.MaxShift > 0)
        {
            float inv = 1 / level0;
            double Cost(int sx, int sy)
            {
                double sad = 0;
                for (int y = c0 - half; y <= c0 + half; y++)
                {
                    int py = Math.Clamp((int)Math.Round(oy) + y + sy, 0, h - 1);
                    for (int x = c0 - half; x <= c0 + half; x++)
                    {
                        int px = Math.Clamp((int)Math.Round(ox) + x + sx, 0, w - 1);
                        sad += Math.Abs((plane[(py * w) + px] * inv) - reference[(y * size) + x]);
                    }
                }

                return sad;
            }

            int m = o.MaxShift;
            double best = double.PositiveInfinity;
            int bx = 0, by = 0;
            for (int sy = -m; sy <= m; sy++)
            {
                for (int sx = -m; sx <= m; sx++)
                {
                    double cost = Cost(sx, sy);
                    if (cost < best - 1e-9 || (Math.Abs(cost - best) <= 1e-9 && Math.Abs(sx) + Math.Abs(sy) < Math.Abs(bx) + Math.Abs(by)))
                    {
                        (best, bx, by) = (cost, sx, sy);
                    }
                }
            }

            // Sub-pixel: a parabola through the costs either side, per axis.
            static double Vertex(double left, double mid, double right)
            {
                double denom = left - (2 * mid) + right;
                return denom <= 1e-9 ? 0 : Math.Clamp(0.5 * (left - right) / denom, -0.5, 0.5);
            }

            double fx = Vertex(Cost(bx - 1, by), best, Cost(bx + 1, by));
            double fy = Vertex(Cost(bx, by - 1), best, Cost(bx, by + 1));
            ox = Math.Round(ox) + bx + fx;
            oy = Math.Round(oy) + by + fy;
        }

        float[] map = scratch?.Map(size * size) ?? new float[size * size];
        for (int y = 0; y < size; y++)
        {
            double sy = Math.Clamp(y + oy, 0, h - 1);
            int y0 = Math.Min((int)sy, h - 2 < 0 ? 0 : h - 2);
            float ty = (float)(sy - y0);
            int y1 = Math.Min(y0 + 1, h - 1);
            for (int x = 0; x < size; x++)
            {
                double sx = Math.Clamp(x + ox, 0, w - 1);
                int x0 = Math.Min((int)sx, w - 2 < 0 ? 0 : w - 2);
                float tx = (float)(sx - x0);
                int x1 = Math.Min(x0 + 1, w - 1);
                float top = plane[(y0 * w) + x0] + (tx * (plane[(y0 * w) + x1] - plane[(y0 * w) + x0]));
                float bottom = plane[(y1 * w) + x0] + (tx * (plane[(y1 * w) + x1] - plane[(y1 * w) + x0]));
                map[(y * size) + x] = top + (ty * (bottom - top));
            }
        }

        // The level: the mean over the object's bright core (where the reference reads 0.8 or more). A crop whose
        // core is much darker than the brightest part of its centre does not show the object there (a stray match).
        float level = level0;
        bool isObject = true;
        if (core is { Length: > 0 })
        {
            double sum = 0;
            foreach (int p in core)
            {
                sum += map[p];
            }

            level = (float)(sum / core.Length);
            isObject = level > 0 && level >= o.MinObjectLevel * level0;
            if (Math.Abs(level) < 1e-3f)
            {
                level = level0;
            }
        }

        System.Numerics.Tensors.TensorPrimitives.Multiply(map, 1 / level, map);
        return (map, ox, oy, isObject);
    }

    private static float Percentile(float[] plane, int w, int h, int x0, int y0, int side, double q, Scratch? scratch)
    {
        float[] values = scratch?.Window(side * side) ?? new float[side * side];
        int n = 0;
        for (int y = y0; y < y0 + side; y++)
        {
            int py = Math.Clamp(y, 0, h - 1);
            for (int x = x0; x < x0 + side; x++)
            {
                values[n++] = plane[(py * w) + Math.Clamp(x, 0, w - 1)];
            }
        }

        Array.Sort(values, 0, n);
        return values[Math.Min(n - 1, (int)(q * n))];
    }

    /// <summary>Pixels of the central window where the reference reads 0.8 or more: the object's bright core.</summary>
    internal static int[] CoreIndices(float[] reference, int size)
    {
        int half = Math.Max(2, size / 4), c0 = (size - 1) / 2;
        List<int> core = [];
        for (int y = c0 - half; y <= c0 + half; y++)
        {
            for (int x = c0 - half; x <= c0 + half; x++)
            {
                if (reference[(y * size) + x] >= 0.8f)
                {
                    core.Add((y * size) + x);
                }
            }
        }

        return [.. core];
    }

    /// <summary>
    /// Where the objects of a normal model are: the central object's box, and every pixel's distance to the central
    /// object and to the other objects (neighbouring pads) of the model, where the mean reads 0.5 or more.
    /// </summary>
    internal sealed record ModelLayout(Rectangle Central, float[] ToCentral, float[] ToOthers)
    {
        private const float Far = 1e6f;

        public static ModelLayout Of(float[] mean, int size)
        {
            byte[] mask = new byte[mean.Length];
            for (int p = 0; p < mask.Length; p++)
            {
                mask[p] = mean[p] >= 0.5f ? (byte)1 : (byte)0;
            }

            int[] labels = new int[mask.Length];
            List<ConnectedComponent> parts = ConnectedComponents.Label(mask, size, size, labels);
            double c = (size - 1) / 2.0;
            Rectangle central = new((int)c - 1, (int)c - 1, 3, 3);
            int centralLabel = -1;
            double bestDistance = double.PositiveInfinity;
            foreach (ConnectedComponent part in parts)
            {
                double dx = part.Bounds.X + (part.Bounds.Width / 2.0) - c - 0.5, dy = part.Bounds.Y + (part.Bounds.Height / 2.0) - c - 0.5;
                double d = (dx * dx) + (dy * dy);
                if (part.Area >= 16 && d < bestDistance)
                {
                    (central, centralLabel, bestDistance) = (part.Bounds, part.Label, d);
                }
            }

            HashSet<int> others = [.. parts.Where(p => p.Area >= 16 && p.Label != centralLabel).Select(p => p.Label)];
            return new ModelLayout(central, Distance(labels, size, l => l == centralLabel), Distance(labels, size, others.Contains));
        }

        // Chamfer distance (1, sqrt 2) to the nearest pixel whose label passes 'target'.
        private static float[] Distance(int[] labels, int size, Func<int, bool> target)
        {
            float[] d = new float[labels.Length];
            for (int p = 0; p < d.Length; p++)
            {
                d[p] = labels[p] != 0 && target(labels[p]) ? 0 : Far;
            }

            const float diagonal = 1.41421356f;
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    int p = (y * size) + x;
                    float v = d[p];
                    if (x > 0) { v = Math.Min(v, d[p - 1] + 1); }
                    if (y > 0) { v = Math.Min(v, d[p - size] + 1); }
                    if (x > 0 && y > 0) { v = Math.Min(v, d[p - size - 1] + diagonal); }
                    if (x < size - 1 && y > 0) { v = Math.Min(v, d[p - size + 1] + diagonal); }
                    d[p] = v;
                }
            }

            for (int y = size - 1; y >= 0; y--)
            {
                for (int x = size - 1; x >= 0; x--)
                {
                    int p = (y * size) + x;
                    float v = d[p];
                    if (x < size - 1) { v = Math.Min(v, d[p + 1] + 1); }
                    if (y < size - 1) { v = Math.Min(v, d[p + size] + 1); }
                    if (x < size - 1 && y < size - 1) { v = Math.Min(v, d[p + size + 1] + diagonal); }
                    if (x > 0 && y < size - 1) { v = Math.Min(v, d[p + size - 1] + diagonal); }
                    d[p] = v;
                }
            }

            return d;
        }
    }

    /// <summary>The connected regions of pixels that exceed the model, with their shape features.</summary>
    internal static List<Region> FindRegions(float[] v, float[] mean, float[] spread, ModelLayout layout, int size, ResidualCropClassifierOptions o, Scratch? scratch = null)
    {
        int n = size * size;
        byte[] mask = scratch?.Mask(n) ?? new byte[n];
        float[] excess = scratch?.Excess(n) ?? new float[n];
        for (int p = 0; p < n; p++)
        {
            float e = v[p] - mean[p];
            excess[p] = e;
            mask[p] = e > o.ExcessThreshold && e > o.SpreadFactor * Math.Max(spread[p], o.SpreadFloor) ? (byte)1 : (byte)0;
        }

        int[] labels = scratch?.Labels(n) ?? new int[n];
        List<ConnectedComponent> parts = ConnectedComponents.Label(mask.AsSpan(0, n), size, size, labels.AsSpan(0, n));
        List<Region> regions = [];
        double c = (size - 1) / 2.0;
        Rectangle inner = layout.Central.Inflate(1);
        foreach (ConnectedComponent part in parts)
        {
            if (part.Area < o.MinArea)
            {
                continue;
            }

            Rectangle b = part.Bounds;
            double nearest = double.PositiveInfinity, sumExcess = 0, maxExcess = 0;
            float toCentral = float.PositiveInfinity, toOthers = float.PositiveInfinity;
            int border = 0, copperBorder = 0;
            for (int y = b.Y; y < b.Bottom; y++)
            {
                for (int x = b.X; x < b.Right; x++)
                {
                    int p = (y * size) + x;
                    if (labels[p] != part.Label)
                    {
                        continue;
                    }

                    nearest = Math.Min(nearest, ((x - c) * (x - c)) + ((y - c) * (y - c)));
                    toCentral = Math.Min(toCentral, layout.ToCentral[p]);
                    toOthers = Math.Min(toOthers, layout.ToOthers[p]);
                    sumExcess += excess[p];
                    maxExcess = Math.Max(maxExcess, excess[p]);
                }
            }

            // The ring of pixels just outside the region: how much of it is bright (attached to a pad, or a filled hole).
            for (int y = Math.Max(0, b.Y - 1); y < Math.Min(size, b.Bottom + 1); y++)
            {
                for (int x = Math.Max(0, b.X - 1); x < Math.Min(size, b.Right + 1); x++)
                {
                    int p = (y * size) + x;
                    if (labels[p] == part.Label || !Touches(labels, size, x, y, part.Label))
                    {
                        continue;
                    }

                    border++;
                    copperBorder += v[p] >= 0.5f ? 1 : 0;
                }
            }

            bool inside = inner.Contains(b);
            float[] f =
            [
                MathF.Log(part.Area),
                Math.Max(b.Width, b.Height),
                Math.Min(b.Width, b.Height),
                Thickness(labels, size, b, part.Label),
                (float)(sumExcess / part.Area),
                (float)maxExcess,
                border == 0 ? 0 : (float)copperBorder / border,
                inside ? 1 : 0,
                (float)part.Area / (b.Width * b.Height),
            ];
            // A region is this crop's to report when it lies nearer its object than any neighbouring one (the
            // neighbour's crop reports the others), and within the report radius.
            bool reportable = toCentral <= toOthers && (o.ReportRadius <= 0 || Math.Sqrt(nearest) <= o.ReportRadius);
            regions.Add(new Region(b, part.Area, inside, reportable, f));
        }

        return regions;
    }

    private static bool Touches(int[] labels, int size, int x, int y, int label)
    {
        for (int dy = -1; dy <= 1; dy++)
        {
            int yy = y + dy;
            if (yy < 0 || yy >= size)
            {
                continue;
            }

            for (int dx = -1; dx <= 1; dx++)
            {
                int xx = x + dx;
                if (xx >= 0 && xx < size && labels[(yy * size) + xx] == label)
                {
                    return true;
                }
            }
        }

        return false;
    }

    // The largest city-block distance from a region pixel to the outside (half the region's thickness).
    private static float Thickness(int[] labels, int size, Rectangle b, int label)
    {
        int w = b.Width + 2, h = b.Height + 2;
        int[] d = new int[w * h];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int sx = b.X + x - 1, sy = b.Y + y - 1;
                bool on = sx >= 0 && sy >= 0 && sx < size && sy < size && labels[(sy * size) + sx] == label;
                d[(y * w) + x] = on ? int.MaxValue / 2 : 0;
            }
        }

        for (int y = 1; y < h; y++)
        {
            for (int x = 1; x < w; x++)
            {
                int p = (y * w) + x;
                d[p] = Math.Min(d[p], Math.Min(d[p - 1], d[p - w]) + 1);
            }
        }

        int max = 0;
        for (int y = h - 2; y >= 0; y--)
        {
            for (int x = w - 2; x >= 0; x--)
            {
                int p = (y * w) + x;
                d[p] = Math.Min(d[p], Math.Min(d[p + 1], d[p + w]) + 1);
                max = Math.Max(max, d[p]);
            }
        }

        return max;
    }
}

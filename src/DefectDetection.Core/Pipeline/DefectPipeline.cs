using System.Diagnostics;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Pipeline;

/// <summary>
/// The two-stage pipeline: one <see cref="IRoiDetector"/> finds regions of interest; each region is cut from the
/// full-resolution image (with a context margin), resized to its classifier's input, batched, and judged by the
/// crop classifier chosen by the region's label. Batches run in parallel (bounded), images too in
/// <see cref="InspectFiles"/>. Thread-safe when its detector and classifiers are. Disposing it disposes what it was
/// given to own (a pipeline file's models, sessions and images), never the detector and classifiers passed in otherwise.
/// </summary>
public sealed partial class DefectPipeline : IDefectPipeline, IDisposable
{
    private readonly IDisposable[] _owned;
    private int _disposed;
    private readonly IRoiDetector _detector;
    private readonly ICropClassifier? _defaultClassifier;
    private readonly IReadOnlyDictionary<string, ICropClassifier> _byLabel;
    private readonly DefectPipelineOptions _options;

    /// <summary>Creates a pipeline with one classifier for every region.</summary>
    public DefectPipeline(IRoiDetector detector, ICropClassifier classifier, DefectPipelineOptions? options = null)
        : this(detector, classifier, new Dictionary<string, ICropClassifier>(), options)
    {
        ArgumentNullException.ThrowIfNull(classifier);
    }

    /// <summary>Creates a pipeline that chooses the classifier by the region's label.</summary>
    /// <param name="detector">Stage 1.</param>
    /// <param name="defaultClassifier">Classifier for regions whose label has none of its own (may be null).</param>
    /// <param name="classifiersByLabel">Classifiers keyed by ROI label (ordinal comparison).</param>
    /// <param name="options">Margins, batching and parallelism.</param>
    /// <param name="owned">Resources the pipeline disposes when it is disposed (for example the models it was built from), or null.</param>
    public DefectPipeline(
        IRoiDetector detector,
        ICropClassifier? defaultClassifier,
        IReadOnlyDictionary<string, ICropClassifier> classifiersByLabel,
        DefectPipelineOptions? options = null,
        IEnumerable<IDisposable>? owned = null)
    {
        _owned = owned?.ToArray() ?? [];
        _detector = detector ?? throw new ArgumentNullException(nameof(detector));
        _byLabel = classifiersByLabel ?? throw new ArgumentNullException(nameof(classifiersByLabel));
        _defaultClassifier = defaultClassifier;
        if (_defaultClassifier is null && _byLabel.Count == 0)
        {
            throw new ArgumentException("The pipeline needs a default classifier or at least one classifier by label.", nameof(classifiersByLabel));
        }

        _options = options ?? new DefectPipelineOptions();
        _options.Validate();
    }

    /// <summary>Disposes the resources the pipeline owns (see the constructor's <c>owned</c>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (IDisposable d in _owned)
        {
            d.Dispose();
        }
    }

    /// <inheritdoc />
    public InspectionResult Inspect(ImageView image, CancellationToken cancellationToken = default) =>
        InspectCore(image, null, TimeSpan.Zero, cancellationToken);

    /// <inheritdoc />
    public IReadOnlyList<InspectionResult> InspectFiles(
        IReadOnlyList<string> imagePaths,
        IProgress<InspectionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        InspectionResult[] results = new InspectionResult[imagePaths.Count];
        int completed = 0;
        Parallel.For(0, imagePaths.Count, new ParallelOptions
        {
            MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        }, i =>
        {
            Stopwatch load = Stopwatch.StartNew();
            using Image image = ImageCodecs.Load(imagePaths[i]);
            try
            {
                results[i] = InspectCore(image, imagePaths[i], load.Elapsed, cancellationToken);
            }
            catch (ArgumentException ex)
            {
                // The image does not suit the pipeline (for example not the size of a detector's reference): say which.
                throw new ArgumentException($"{imagePaths[i]}: {ex.Message}", ex);
            }
            progress?.Report(new InspectionProgress(Interlocked.Increment(ref completed), imagePaths.Count, imagePaths[i]));
        });
        return results;
    }

    private InspectionResult InspectCore(ImageView image, string? path, TimeSpan loadTime, CancellationToken cancellationToken)
    {
        Stopwatch total = Stopwatch.StartNew();
        IReadOnlyList<RegionOfInterest> regions = DetectRegions(image, cancellationToken);
        TimeSpan detection = total.Elapsed;

        // Group regions by classifier, then cut into batches.
        List<(ICropClassifier Classifier, int[] Indices)> batches = [];
        Dictionary<ICropClassifier, List<int>> groups = new(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < regions.Count; i++)
        {
            ICropClassifier? classifier = ClassifierFor(regions[i].Label);
            if (classifier is null)
            {
                continue;
            }

            if (!groups.TryGetValue(classifier, out List<int>? list))
            {
                groups[classifier] = list = [];
            }

            list.Add(i);
        }

        foreach ((ICropClassifier classifier, List<int> indices) in groups)
        {
            foreach ((int start, int length) in BatchRanges(indices.Count, _options.BatchSize, _options.MaxDegreeOfParallelism))
            {
                batches.Add((classifier, indices.GetRange(start, length).ToArray()));
            }
        }

        CropVerdict?[] verdicts = new CropVerdict?[regions.Count];
        long croppingTicks = 0, classificationTicks = 0;
        Parallel.For(0, batches.Count, new ParallelOptions
        {
            MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        }, b =>
        {
            (ICropClassifier classifier, int[] indices) = batches[b];
            long t0 = Stopwatch.GetTimestamp();
            List<Image> owned = new(indices.Length);
            List<ImageView> crops = new(indices.Length);
            try
            {
                IReadOnlyList<CropVerdict> result;
                long t1;
                if (classifier is IRegionCropClassifier direct)
                {
                    // The classifier cuts and resizes straight into its input: cropping is part of classification.
                    Rectangle[] boxes = new Rectangle[indices.Length];
                    for (int k = 0; k < indices.Length; k++)
                    {
                        boxes[k] = Grown(regions[indices[k]].Box);
                    }

                    t1 = Stopwatch.GetTimestamp();
                    result = direct.Classify(image, boxes, _options.Border, cancellationToken);
                }
                else
                {
                    foreach (int i in indices)
                    {
                        crops.Add(Cut(image, regions[i].Box, classifier.InputSize, owned));
                    }

                    t1 = Stopwatch.GetTimestamp();
                    result = classifier.Classify(crops, cancellationToken);
                }

                if (result.Count != indices.Length)
                {
                    throw new InvalidOperationException($"{classifier.GetType().Name} returned {result.Count} verdicts for {indices.Length} crops.");
                }

                for (int k = 0; k < indices.Length; k++)
                {
                    verdicts[indices[k]] = result[k];
                }

                Interlocked.Add(ref croppingTicks, t1 - t0);
                Interlocked.Add(ref classificationTicks, Stopwatch.GetTimestamp() - t1);
            }
            finally
            {
                foreach (Image crop in owned)
                {
                    crop.Dispose();
                }
            }
        });

        List<RoiVerdict> judged = [];
        List<Defect> defects = [];
        float maxAny = 0;
        for (int i = 0; i < regions.Count; i++)
        {
            if (verdicts[i] is not { } verdict)
            {
                continue;
            }

            judged.Add(new RoiVerdict(regions[i], verdict));
            maxAny = Math.Max(maxAny, verdict.Confidence);
            if (verdict.IsDefect)
            {
                if (verdict.LocalizedDefects is { Count: > 0 } located)
                {
                    AddLocalized(defects, located, regions[i].Box, ClassifierFor(regions[i].Label)!.InputSize);
                }
                else
                {
                    defects.Add(new Defect(regions[i].Box, verdict.Label, verdict.Confidence));
                }
            }
        }

        if (_options.DuplicateSuppressionDistance > 0)
        {
            defects = SuppressDuplicates(defects, _options.DuplicateSuppressionDistance);
        }

        if (_options.MergeOverlappingDefects)
        {
            defects = MergeTouching(defects);
        }

        bool anomalous = defects.Count > 0;
        return new InspectionResult
        {
            ImagePath = path,
            ImageWidth = image.Width,
            ImageHeight = image.Height,
            IsAnomalous = anomalous,
            Confidence = maxAny,
            Defects = defects,
            Regions = judged,
            Timings = new StageTimings
            {
                Load = loadTime,
                Detection = detection,
                Cropping = Stopwatch.GetElapsedTime(0, croppingTicks),
                Classification = Stopwatch.GetElapsedTime(0, classificationTicks),
                Total = total.Elapsed + loadTime,
            },
        };
    }

    /// <summary>
    /// Splits <paramref name="count"/> crops into batches of nearly equal size (at most <paramref name="batchSize"/>),
    /// and into at least <paramref name="workers"/> batches when there are that many crops, so that parallel workers
    /// get even shares instead of full batches and one small remainder.
    /// </summary>
    internal static IEnumerable<(int Start, int Length)> BatchRanges(int count, int batchSize, int workers)
    {
        if (count == 0)
        {
            yield break;
        }

        int batches = Math.Max((count + batchSize - 1) / batchSize, Math.Min(workers, count));
        for (int b = 0, start = 0; b < batches; b++)
        {
            int end = (int)((long)count * (b + 1) / batches);
            yield return (start, end - start);
            start = end;
        }
    }

    // Maps defects located in a crop (crop coordinates, after the crop was resized to 'size') to the image.
    private void AddLocalized(List<Defect> defects, IReadOnlyList<Defect> located, Rectangle box, CropSize? size)
    {
        Rectangle region = box.Inflate(_options.ContextMargin);
        double sx = size is { } s ? (double)region.Width / s.Width : 1, sy = size is { } t ? (double)region.Height / t.Height : 1;
        foreach (Defect d in located)
        {
            defects.Add(d with
            {
                Box = Rectangle.FromEdges(
                    region.X + (int)Math.Floor(d.Box.X * sx), region.Y + (int)Math.Floor(d.Box.Y * sy),
                    region.X + (int)Math.Ceiling(d.Box.Right * sx), region.Y + (int)Math.Ceiling(d.Box.Bottom * sy)),
            });
        }
    }

    /// <summary>Keeps, among defects of one label within <paramref name="distance"/> pixels of each other, the most confident.</summary>
    internal static List<Defect> SuppressDuplicates(List<Defect> defects, int distance)
    {
        List<Defect> kept = [];
        foreach (Defect d in defects.OrderByDescending(d => d.Confidence))
        {
            if (!kept.Any(k => k.Label == d.Label && !Rectangle.Intersect(k.Box.Inflate(distance), d.Box).IsEmpty))
            {
                kept.Add(d);
            }
        }

        return kept;
    }

    /// <summary>Merges defects of one label whose boxes overlap or touch, until no two do.</summary>
    internal static List<Defect> MergeTouching(List<Defect> defects)
    {
        List<Defect> merged = [.. defects];
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int a = 0; a < merged.Count && !changed; a++)
            {
                for (int b = a + 1; b < merged.Count; b++)
                {
                    Defect da = merged[a], db = merged[b];
                    if (da.Label == db.Label && !Rectangle.Intersect(da.Box.Inflate(1), db.Box).IsEmpty)
                    {
                        merged[a] = new Defect(Rectangle.Union(da.Box, db.Box), da.Label, Math.Max(da.Confidence, db.Confidence));
                        merged.RemoveAt(b);
                        changed = true;
                        break;
                    }
                }
            }
        }

        return merged;
    }

    private ICropClassifier? ClassifierFor(string? label)
    {
        if (label is not null && _byLabel.TryGetValue(label, out ICropClassifier? specific))
        {
            return specific;
        }

        return label is null || _options.UseDefaultClassifierForUnknownLabels ? _defaultClassifier : null;
    }

    private Rectangle Grown(Rectangle box)
    {
        Rectangle region = box.Inflate(_options.ContextMargin);
        return region.IsEmpty ? throw new InvalidOperationException($"The detector returned an empty region {box}.") : region;
    }

    // A crop at full resolution: a view when the box (with margin) lies inside the image and no resize is needed,
    // otherwise a padded and/or resized copy (added to 'owned' for disposal).
    private ImageView Cut(ImageView image, Rectangle box, CropSize? size, List<Image> owned)
    {
        Rectangle region = Grown(box);

        bool inside = new Rectangle(0, 0, image.Width, image.Height).Contains(region);
        ImageView crop;
        if (inside)
        {
            crop = image.Slice(region);
        }
        else
        {
            Image padded = Cropping.CropPadded(image, region, _options.Border);
            owned.Add(padded);
            crop = padded;
        }

        if (size is { } s && (s.Width != crop.Width || s.Height != crop.Height))
        {
            Image resized = ImageResizer.Resize(crop, s.Width, s.Height, _options.CropResize);
            owned.Add(resized);
            crop = resized;
        }

        return crop;
    }
}

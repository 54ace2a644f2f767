using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;

namespace DefectDetection.Vision.TemplateDifference;

/// <summary>A training image with its golden reference and its labelled defect boxes.</summary>
/// <param name="Image">The inspected image.</param>
/// <param name="Reference">The defect-free reference of the same size, aligned to the image.</param>
/// <param name="Defects">The defects, labelled with their types.</param>
public sealed record ReferencePairSample(ImageView Image, ImageView Reference, IReadOnlyList<LabeledBox> Defects);

/// <summary>
/// Trains a <see cref="TemplateDifferenceCropClassifier"/>: runs the detector on every training pair, labels each
/// candidate with the type of the defect box holding its centre (the smallest when several do) or as noise when
/// none does, describes it against the reference and fits the softmax head.
/// </summary>
public sealed class TemplateDifferenceClassifierTrainer : IDefectTrainer
{
    private readonly TemplateDifferenceClassifierOptions _options;

    /// <summary>Creates the trainer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public TemplateDifferenceClassifierTrainer(TemplateDifferenceClassifierOptions? options = null)
    {
        _options = options ?? new TemplateDifferenceClassifierOptions();
        _options.Validate();
    }

    /// <summary>
    /// Trains on a dataset of test/golden-template pairs: each item's <see cref="LabeledImage.ReferencePath"/> is its
    /// golden template and its <see cref="LabeledImage.Boxes"/> its labelled defects; the candidates are those that
    /// the detector of <see cref="TemplateDifferenceClassifierOptions.Detector"/> finds (pairs are read one at a time).
    /// When every pair shares one golden template (one product on a line), the model keeps it, judges whole images
    /// with no further binding and stores it in its file. The pairs are taken in <see cref="ImageDataset.InContentOrder"/>
    /// (by the test image), so the model does not depend on the order they are listed in.
    /// </summary>
    /// <param name="dataset">The pairs.</param>
    /// <param name="progress">Receives progress (stage <c>features</c> per pair, then the head's iterations).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <exception cref="ArgumentException">An item has no reference, or no candidate was found, or all have one label.</exception>
    public TemplateDifferenceCropClassifier Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        LabeledImage? missing = dataset.FirstOrDefault(i => i.ReferencePath is null);
        if (missing is not null)
        {
            throw new ArgumentException($"{missing.Origin ?? missing.ImagePath}: the template-difference learner needs each image's golden template (ReferencePath), and this one has none.", nameof(dataset));
        }

        dataset = dataset.InContentOrder(cancellationToken);
        TemplateDifferenceCropClassifier model = Fit(Pairs(dataset, progress, cancellationToken), new TemplateDifferenceRoiDetector(null, _options.Detector), progress, cancellationToken);
        string[] golden = [.. dataset.Select(i => Path.GetFullPath(i.ReferencePath!)).Distinct(StringComparer.Ordinal)];
        return golden.Length == 1 ? model.Owning(ImageCodecs.Load(golden[0])) : model;
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    private static IEnumerable<ReferencePairSample> Pairs(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        for (int i = 0; i < dataset.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LabeledImage item = dataset[i];
            using Image image = ImageCodecs.Load(item.ImagePath);
            using Image reference = ImageCodecs.Load(item.ReferencePath!);
            if (image.Width != reference.Width || image.Height != reference.Height)
            {
                throw new ArgumentException($"The image '{item.ImagePath}' is {image.Width}x{image.Height} but its golden template '{item.ReferencePath}' is {reference.Width}x{reference.Height}{(item.Origin is null ? string.Empty : $" (from {item.Origin})")}; a test image and its template need one size.", nameof(dataset));
            }

            yield return new ReferencePairSample(image.View(), reference.View(), dataset[i].Boxes);
            progress?.Report(TrainingProgress.Count(TrainingStages.Features, i + 1, dataset.Count));
        }
    }

    /// <summary>
    /// Trains on the candidates that <paramref name="detector"/> finds in <paramref name="samples"/>, in the order
    /// given (the head's shuffles follow it; the dataset overload fixes the order by content).
    /// </summary>
    /// <param name="samples">Training pairs; enumerated once (images may be loaded lazily and disposed after use).</param>
    /// <param name="detector">The stage-1 detector the classifier will follow.</param>
    /// <param name="progress">Receives the head's training progress.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <exception cref="ArgumentException">No candidate was found, or all have one label.</exception>
    public TemplateDifferenceCropClassifier Fit(
        IEnumerable<ReferencePairSample> samples,
        TemplateDifferenceRoiDetector detector,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(detector);
        List<float[]> features = [];
        List<string> labels = [];
        Dictionary<string, List<int>> sides = new(StringComparer.Ordinal);
        foreach (ReferencePairSample sample in samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ArgumentNullException.ThrowIfNull(sample);
            IReadOnlyList<RegionOfInterest> candidates = detector.Detect(sample.Image, sample.Reference, cancellationToken);
            string[] candidateLabels = [.. candidates.Select(c => LabelOf(c.Box, sample.Defects) ?? _options.NoDefectLabel)];
            foreach (LabeledBox d in sample.Defects)
            {
                if (!sides.TryGetValue(d.Label, out List<int>? list))
                {
                    sides[d.Label] = list = [];
                }

                list.Add((d.Box.Width + d.Box.Height + 1) / 2);
            }
            int transforms = _options.Augment ? 8 : 1;
            for (int t = 0; t < transforms; t++)
            {
                bool swap = (t & 4) != 0, flipX = (t & 1) != 0, flipY = (t & 2) != 0;
                using Image? image = t == 0 ? null : Transform(sample.Image, swap, flipX, flipY);
                using Image? reference = t == 0 ? null : Transform(sample.Reference, swap, flipX, flipY);
                ImageView im = image ?? sample.Image, re = reference ?? sample.Reference;
                for (int c = 0; c < candidates.Count; c++)
                {
                    Rectangle box = MapBox(candidates[c].Box, sample.Image.Width, sample.Image.Height, swap, flipX, flipY);
                    float[] f = new float[TemplateDifferenceFeatures.Length];
                    TemplateDifferenceCropClassifier.Describe(im, re, box, _options, f);
                    features.Add(f);
                    labels.Add(candidateLabels[c]);
                }
            }
        }

        if (features.Count == 0)
        {
            throw new ArgumentException("The detector found no candidate in the training pairs.", nameof(samples));
        }

        if (_options.Model == TemplateDifferenceModel.Forest)
        {
            DecisionForest forest = DecisionForest.Fit(features, labels, new DecisionForestOptions { Trees = _options.Trees, Seed = _options.Seed }, cancellationToken);
            return new TemplateDifferenceCropClassifier(null, forest, _options, null, BoxSizes(sides));
        }

        SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(_options.Head).Fit(features, labels, progress, cancellationToken);
        return new TemplateDifferenceCropClassifier(head, null, _options, null, BoxSizes(sides));
    }

    /// <summary>Creates the classifier from a head trained earlier (for example loaded from a model file).</summary>
    /// <exception cref="ArgumentException">The head's feature length does not match.</exception>
    public TemplateDifferenceCropClassifier FromHead(SoftmaxClassifierModel head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return new TemplateDifferenceCropClassifier(head, null, _options, null);
    }

    // The median side of each type's boxes.
    private static Dictionary<string, int> BoxSizes(Dictionary<string, List<int>> sides) =>
        sides.ToDictionary(kv => kv.Key, kv => kv.Value.Order().ElementAt(kv.Value.Count / 2), StringComparer.Ordinal);

    // The eight symmetries of the square: optional transpose, then mirror in x and/or y.
    private static Image Transform(ImageView view, bool swap, bool flipX, bool flipY) => (swap, flipX, flipY) switch
    {
        (false, true, false) => Orientation.FlipHorizontal(view),
        (false, false, true) => Orientation.FlipVertical(view),
        (false, true, true) => Orientation.Rotate180(view),
        (true, false, false) => Orientation.Transpose(view),
        (true, true, false) => Orientation.Rotate90(view),
        (true, false, true) => Orientation.Rotate270(view),
        (true, true, true) => Orientation.Transverse(view),
        _ => view.ToImage(),
    };

    /// <summary>Where <paramref name="box"/> of a w x h image lands under <see cref="Transform"/>.</summary>
    internal static Rectangle MapBox(Rectangle box, int w, int h, bool swap, bool flipX, bool flipY)
    {
        // Transpose first: (x, y) -> (y, x) in an h x w image; then mirror.
        Rectangle b = swap ? new Rectangle(box.Y, box.X, box.Height, box.Width) : box;
        int dw = swap ? h : w, dh = swap ? w : h;
        int x = flipX ? dw - b.Right : b.X, y = flipY ? dh - b.Bottom : b.Y;
        return new Rectangle(x, y, b.Width, b.Height);
    }

    /// <summary>The label of the smallest defect box holding the centre of <paramref name="box"/>, or null.</summary>
    internal static string? LabelOf(Rectangle box, IReadOnlyList<LabeledBox> defects)
    {
        int cx = box.X + (box.Width / 2), cy = box.Y + (box.Height / 2);
        string? label = null;
        long area = long.MaxValue;
        foreach (LabeledBox d in defects)
        {
            if (cx >= d.Box.X && cx < d.Box.Right && cy >= d.Box.Y && cy < d.Box.Bottom && d.Box.Area < area)
            {
                area = d.Box.Area;
                label = d.Label;
            }
        }

        return label;
    }
}

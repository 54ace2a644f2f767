using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Classification;

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
public sealed class TemplateDifferenceClassifierTrainer
{
    private readonly TemplateDifferenceClassifierOptions _options;

    /// <summary>Creates the trainer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public TemplateDifferenceClassifierTrainer(TemplateDifferenceClassifierOptions? options = null)
    {
        _options = options ?? new TemplateDifferenceClassifierOptions();
        _options.Validate();
    }

    /// <summary>Trains on the candidates that <paramref name="detector"/> finds in <paramref name="samples"/>.</summary>
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
        foreach (ReferencePairSample sample in samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ArgumentNullException.ThrowIfNull(sample);
            IReadOnlyList<RegionOfInterest> candidates = detector.Detect(sample.Image, sample.Reference, cancellationToken);
            foreach (RegionOfInterest candidate in candidates)
            {
                float[] f = new float[TemplateDifferenceFeatures.Length];
                TemplateDifferenceCropClassifier.Describe(sample.Image, sample.Reference, candidate.Box, _options, f);
                features.Add(f);
                labels.Add(LabelOf(candidate.Box, sample.Defects) ?? _options.NoDefectLabel);
            }
        }

        if (features.Count == 0)
        {
            throw new ArgumentException("The detector found no candidate in the training pairs.", nameof(samples));
        }

        SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(_options.Head).Fit(features, labels, progress, cancellationToken);
        return new TemplateDifferenceCropClassifier(head, _options, null);
    }

    /// <summary>Creates the classifier from a head trained earlier (for example loaded from a model file).</summary>
    /// <exception cref="ArgumentException">The head's feature length does not match.</exception>
    public TemplateDifferenceCropClassifier FromHead(SoftmaxClassifierModel head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return new TemplateDifferenceCropClassifier(head, _options, null);
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

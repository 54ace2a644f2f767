using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Features;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>
/// A crop classifier made of a feature extractor and a trained softmax head: the stage-2 judge of a
/// <see cref="DefectPipeline"/>. A crop is a defect when the probabilities of the defect labels add up to more than those of the normal labels; the
/// confidence is the probability that the crop is not normal, so the decision threshold sits at 0.5.
/// </summary>
public sealed class FeatureCropClassifier : IRegionCropClassifier
{
    private readonly IFeatureExtractor _extractor;
    private readonly SoftmaxClassifierModel _head;
    private readonly HashSet<string> _normal;
    private readonly int[] _normalIndices;

    /// <summary>Creates the classifier.</summary>
    /// <param name="extractor">Turns a crop into features (the same extractor the head was trained on).</param>
    /// <param name="head">The trained head.</param>
    /// <param name="normalLabels">Labels that mean "no defect" (for example "normal", "ok"); at least one of the head's labels.</param>
    /// <param name="inputSize">Size crops are resized to before extraction, or null to pass them at their own size.</param>
    public FeatureCropClassifier(IFeatureExtractor extractor, SoftmaxClassifierModel head, IReadOnlyCollection<string> normalLabels, CropSize? inputSize = null)
    {
        _extractor = extractor ?? throw new ArgumentNullException(nameof(extractor));
        _head = head ?? throw new ArgumentNullException(nameof(head));
        ArgumentNullException.ThrowIfNull(normalLabels);
        if (extractor.FeatureLength != head.FeatureLength)
        {
            throw new ArgumentException($"The extractor gives {extractor.FeatureLength} features but the head expects {head.FeatureLength}.", nameof(head));
        }

        _normal = new HashSet<string>(normalLabels, StringComparer.Ordinal);
        _normalIndices = [.. Enumerable.Range(0, head.Labels.Count).Where(i => _normal.Contains(head.Labels[i]))];
        if (_normalIndices.Length == 0)
        {
            throw new ArgumentException($"None of the normal labels ({string.Join(", ", normalLabels)}) is a label of the head ({string.Join(", ", head.Labels)}).", nameof(normalLabels));
        }

        InputSize = inputSize;
    }

    /// <inheritdoc />
    public CropSize? InputSize { get; }

    /// <summary>The head's labels.</summary>
    public IReadOnlyList<string> Labels => _head.Labels;

    /// <inheritdoc />
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crops);

        // A backbone runs the whole batch through the network at once (one input tensor); a weight-free extractor
        // goes crop by crop on this thread (the pipeline already classifies batches in parallel).
        float[][]? batched = _extractor is OnnxFeatureExtractor backbone ? backbone.ExtractBatch(crops, cancellationToken) : null;
        return Judge(crops.Count, batched, crops, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// With a backbone, each region is resized straight into the network's input tensor (its layout's resampling);
    /// otherwise each region is cut (a view when inside the image) and, when <see cref="InputSize"/> is set, resized
    /// bilinearly to it before extraction.
    /// </remarks>
    public IReadOnlyList<CropVerdict> Classify(ImageView image, IReadOnlyList<Rectangle> regions, BorderMode border, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(regions);
        if (_extractor is OnnxFeatureExtractor backbone)
        {
            return Judge(regions.Count, backbone.ExtractRegions(image, regions, border, cancellationToken), null, cancellationToken);
        }

        ImageView[] crops = new ImageView[regions.Count];
        List<Image> owned = [];
        try
        {
            Rectangle bounds = new(0, 0, image.Width, image.Height);
            for (int i = 0; i < crops.Length; i++)
            {
                Rectangle r = regions[i];
                ImageView crop;
                if (bounds.Contains(r))
                {
                    crop = image.Slice(r);
                }
                else
                {
                    Image padded = Cropping.CropPadded(image, r, border);
                    owned.Add(padded);
                    crop = padded;
                }

                if (InputSize is { } size && (size.Width != crop.Width || size.Height != crop.Height))
                {
                    Image resized = ImageResizer.Resize(crop, size.Width, size.Height);
                    owned.Add(resized);
                    crop = resized;
                }

                crops[i] = crop;
            }

            return Judge(crops.Length, null, crops, cancellationToken);
        }
        finally
        {
            owned.ForEach(c => c.Dispose());
        }
    }

    private CropVerdict[] Judge(int count, float[][]? batched, IReadOnlyList<ImageView>? crops, CancellationToken cancellationToken)
    {
        CropVerdict[] verdicts = new CropVerdict[count];
        float[] features = new float[_extractor.FeatureLength];
        float[] probabilities = new float[_head.Labels.Count];
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (batched is null)
            {
                _extractor.Extract(crops![i], features);
            }

            _head.PredictProbabilities(batched is null ? features : batched[i], probabilities);
            float normal = 0;
            foreach (int n in _normalIndices)
            {
                normal += probabilities[n];
            }

            // A defect when the defect labels together outweigh the normal ones; the label is then the likeliest
            // defect label (otherwise the likeliest normal one).
            bool defect = normal < 0.5f;
            int best = -1;
            for (int k = 0; k < probabilities.Length; k++)
            {
                if (_normal.Contains(_head.Labels[k]) != defect && (best < 0 || probabilities[k] > probabilities[best]))
                {
                    best = k;
                }
            }

            verdicts[i] = new CropVerdict(_head.Labels[best], defect, Math.Clamp(1 - normal, 0, 1), probabilities[best]);
        }

        return verdicts;
    }
}

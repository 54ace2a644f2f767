using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.TemplateDifference;
namespace DefectDetection.Vision.PinResidual;

/// <summary>
/// Configuration of <see cref="ResidualCropClassifierTrainer"/>. Crops are turned into one value plane (a weighted
/// sum of the colour channels), aligned to sub-pixel accuracy on their central object, scaled so that the object's
/// bright part reads 1, and compared with the closest of several per-pixel normal models (mean and spread).
/// </summary>
public sealed class ResidualCropClassifierOptions
{
    /// <summary>
    /// Weights of the red, green and blue channels in the value plane (gray images use their only channel). Choose
    /// them so that what matters is bright: (1, 0, -1) makes copper bright and solder mask, silkscreen and holes dark.
    /// Default: luma (0.299, 0.587, 0.114).
    /// </summary>
    public IReadOnlyList<float> ChannelWeights { get; init; } = [0.299f, 0.587f, 0.114f];

    /// <summary>Side of the square model in pixels; 0: the smaller side of the first training crop. Default: 0.</summary>
    public int Size { get; init; }

    /// <summary>Largest shift (pixels) searched when aligning a crop to the model. Default: 3.</summary>
    public int MaxShift { get; init; } = 3;

    /// <summary>
    /// Normal models: normal crops are clustered (k-means) and each cluster gets its own per-pixel mean and spread,
    /// so that neighbouring parts that some crops show and others do not are part of a model. Default: 32.
    /// </summary>
    public int Prototypes { get; init; } = 32;

    /// <summary>A pixel is in excess when it exceeds the model mean by this much (in units of the object's level). Default: 0.45.</summary>
    public float ExcessThreshold { get; init; } = 0.45f;

    /// <summary>... and by this many times the model's per-pixel spread. Default: 3.</summary>
    public float SpreadFactor { get; init; } = 3;

    /// <summary>Smallest spread used (in units of the object's level): sensor noise. Default: 0.1.</summary>
    public float SpreadFloor { get; init; } = 0.1f;

    /// <summary>Smallest excess region (pixels) considered. Default: 8.</summary>
    public int MinArea { get; init; } = 8;

    /// <summary>
    /// Regions whose nearest pixel lies farther than this from the crop centre are left to the crop of the
    /// neighbouring object; 0: no limit. Default: 0.
    /// </summary>
    public double ReportRadius { get; init; }

    /// <summary>
    /// A crop shows the object when the object's core (where the alignment reference reads 0.8 or more) reaches this
    /// fraction of the brightest tenth of the crop's centre; other crops (stray detector matches) are judged normal
    /// and left out of training. Default: 0.6.
    /// </summary>
    public float MinObjectLevel { get; init; } = 0.6f;

    /// <summary>
    /// Excess inside the object (over a hole) within this many pixels of excess beside it is one piece lying over the
    /// object (stray copper across a pad and its hole): the two are reported as one box. 0: never joined. Default: 0.
    /// </summary>
    public int JoinDistance { get; init; }

    /// <summary>Pixels added around a located defect's box. Default: 2.</summary>
    public int BoxMargin { get; init; } = 2;

    /// <summary>Seed of the clustering. Default: 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (ChannelWeights is null || ChannelWeights.Count != 3)
        {
            throw new ArgumentException("ChannelWeights needs three values (red, green, blue).", nameof(ChannelWeights));
        }

        if (Size < 0 || Size > 1024 || MaxShift < 0 || MaxShift > 16 || Prototypes < 1 || Prototypes > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(Size), $"Need 0 <= Size <= 1024, 0 <= MaxShift <= 16, 1 <= Prototypes <= 1024 (got {Size}, {MaxShift}, {Prototypes}).");
        }

        if (!(ExcessThreshold > 0 && SpreadFactor >= 0 && SpreadFloor > 0 && ReportRadius >= 0) || MinArea < 1 || BoxMargin < 0 || JoinDistance < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ExcessThreshold), "ExcessThreshold and SpreadFloor must be positive, SpreadFactor, ReportRadius and BoxMargin non-negative, MinArea at least 1.");
        }
    }
}

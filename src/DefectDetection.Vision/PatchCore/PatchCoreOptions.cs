using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>Configuration of <see cref="PatchCoreTrainer"/>.</summary>
public sealed record PatchCoreOptions
{
    /// <summary>
    /// The backbone (<see cref="BackboneSpec"/>): its file, input layout (the size comes from <see cref="InputSize"/>
    /// and <see cref="Tiles"/>) and taps. Empty taps (the default): its stage outputs at strides 8 and 16 (PatchCore's
    /// layer2 + layer3 on a ResNet), recorded in the model. Required.
    /// </summary>
    public BackboneSpec? Backbone { get; init; }

    /// <summary>The labels of normal images in a dataset given to <see cref="PatchCoreTrainer.Fit(DefectDetection.Datasets.ImageDataset, IProgress{DefectDetection.Models.TrainingProgress}?, CancellationToken)"/>. Default <c>normal</c> and <c>good</c> (MVTec AD).</summary>
    public IReadOnlyList<string> NormalLabels { get; init; } = DefectDetection.Models.Learners.DefaultNormalLabels;

    /// <summary>
    /// Network input side in pixels (images are stretched to it). Null (default): chosen by <see cref="AutoConfig"/>
    /// with <see cref="Tiles"/> (the whole image at 224 or 320, or tiles of 224) when the tiles are left to it too, else
    /// 224.
    /// </summary>
    public int? InputSize { get; init; }

    /// <summary>
    /// Tiles a side (1..4): the image is stretched to Tiles x InputSize pixels a side and the backbone runs on
    /// Tiles x Tiles crops whose feature maps are stitched, for finer patches on a fixed-size backbone (small defects
    /// in large images). Null (default): chosen by <see cref="AutoConfig"/> from the image sizes and validation on
    /// synthetic defects, 1 when the search is off.
    /// </summary>
    public int? Tiles { get; init; }

    /// <summary>Automatic configuration of the settings left null (<see cref="Tiles"/>). Default: on, 5 minutes.</summary>
    public AutoConfigOptions AutoConfig { get; init; } = new();

    /// <summary>Local aggregation window (odd, 1 = none) over each feature map. Default 3.</summary>
    public int Neighbourhood { get; init; } = 3;

    /// <summary>
    /// Each tapped layer with more channels than this is reduced to this many features by averaging runs of adjacent
    /// channels (PatchCore's adaptive average pooling), so that wide layers neither dominate the distance nor multiply
    /// the bank's memory and search time (ResNet-18's layer2 + layer3, 128 + 256 channels, give 64 + 64 features at
    /// 64). 0: every channel. Null (default): 64 when the taps together have more than 192 channels, else every
    /// channel. Stored in the model file.
    /// </summary>
    public int? MaxLayerFeatures { get; init; }

    /// <summary>
    /// Fraction of all patch features kept in the memory bank (greedy k-centre coreset), in (0, 1]; 1 keeps every patch
    /// and skips the selection. With hundreds of training images a small coreset costs accuracy, while the whole bank
    /// (about 400 KB an image) makes the exact search slow: combine 1 with <see cref="NearestImages"/>. Null (default):
    /// 0.1 for up to <see cref="LargeSet"/> normal images, 1 (with <see cref="NearestImages"/> 50) for more.
    /// </summary>
    public double? CoresetRatio { get; init; }

    /// <summary>
    /// Compare each scored image's patches only with the bank rows of this many training images, those whose mean patch
    /// feature is nearest to the scored image's (SPADE's image-level nearest neighbours ahead of the patch search).
    /// 0: the whole bank. Null (default): 50 when the whole bank is kept for more than <see cref="LargeSet"/> normal
    /// images, else 0. Meant for hundreds of training images with <see cref="CoresetRatio"/> 1, where it
    /// keeps the whole bank's quality at a fraction of its search time (the held-out normals are scored the same way for
    /// the threshold; figures in docs/experiments.md). Images whose rows a coreset dropped entirely are skipped; a value
    /// at or above the number of training images is the whole bank. Models trained with it also store each training
    /// image's mean feature (4 bytes x features per image).
    /// </summary>
    public int? NearestImages { get; init; }

    /// <summary>Normal images above which the automatic bank keeps every patch and searches the 50 nearest images (see <see cref="CoresetRatio"/>).</summary>
    public const int LargeSet = 100;

    /// <summary>Random projection size for coreset selection (0 = none; ignored when not smaller than the feature size). Default 128.</summary>
    public int ProjectionDimensions { get; init; } = 128;

    /// <summary>
    /// Rings of patches at the grid edge whose scores are replaced by the nearest inner patch's score before the
    /// image score and the map (edge patches see the backbone's zero padding and the photo's border, and otherwise
    /// dominate the maximum; like the centre crop of the usual 256 -> 224 preprocessing). Null (default): 1 or 3,
    /// chosen by <see cref="AutoConfig"/>; 1 when the search is off.
    /// </summary>
    public int? BorderPatches { get; init; }

    /// <summary>
    /// Also learn each normal image mirrored left-right, top-bottom and both (180 degrees), for parts whose texture
    /// has no fixed orientation: more normal variation from few images, at 4x the feature memory and coreset time
    /// during training. Default false.
    /// </summary>
    public bool AugmentFlips { get; init; }

    /// <summary>
    /// Weight of the image-relative intensity context added to each patch's distance (0 = off). Null (default): chosen
    /// with <see cref="PositionWeight"/> by <see cref="AutoConfig"/> (0, or 0.5 with position weight 3), 0 when the
    /// search is off. For
    /// defects that are large areas of uneven brightness or texture, whose patches each look like some normal patch:
    /// each grid cell's local contrast, streak anisotropy, and brightness and contrast relative to the medians of its
    /// own row and column, scored by a Gaussian fitted to the normal images' cells and scaled so that weight 1 gives it
    /// the spread of the patch distances over the held-out normals. Costs a few milliseconds an image.
    /// </summary>
    public double? ContextWeight { get; init; }

    /// <summary>
    /// Weight of each patch's position in the grid, appended to its features (0 = off). Null (default): chosen with
    /// <see cref="ContextWeight"/> by <see cref="AutoConfig"/>, 0 when the search is off. For parts that
    /// fill the image the same way every time (crops of one kind of part stretched to the input, a fixed fixture), so
    /// that a patch must resemble normal patches from about the same place on the part, not from anywhere: the two
    /// appended coordinates run from 0 to the weight across the grid, in the units of the feature distances (with the
    /// default MobileNetV2 taps, distances to the nearest normal patch are about 2 to 3).
    /// </summary>
    public double? PositionWeight { get; init; }

    /// <summary>Gaussian smoothing of the anomaly map, in network input pixels. Default 4.</summary>
    public float MapSigma { get; init; } = 4;

    /// <summary>Smallest region (pixels) reported. Default 1.</summary>
    public int MinRegionArea { get; init; } = 1;

    /// <summary>Images per backbone run. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Threads for the backbone, coreset and search. Default: processor count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Seed of the coreset start and projection. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Threshold selection.</summary>
    public AnomalyThresholdOptions Threshold { get; init; } = new();

    /// <summary>Whether the threshold is calibrated on out-of-fold normal scores (off for the search's candidates, which only rank).</summary>
    internal bool Calibrate { get; init; } = true;

    internal void Validate()
    {
        if (Backbone is null)
        {
            throw new ArgumentException("Backbone is required (for example BackboneSpec.FromFile(path)).", nameof(Backbone));
        }

        Backbone.Validate();

        if (InputSize is < 32 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(InputSize), $"InputSize must be in [32, 4096], got {InputSize}.");
        }

        if (Tiles is < 1 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(Tiles), $"Tiles must be in [1, 4], got {Tiles}.");
        }

        if (MaxLayerFeatures < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLayerFeatures), $"MaxLayerFeatures must be >= 0 (0 = every channel), got {MaxLayerFeatures}.");
        }

        if (Neighbourhood < 1 || Neighbourhood % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Neighbourhood), $"Neighbourhood must be odd and positive, got {Neighbourhood}.");
        }

        if (CoresetRatio is { } ratio && !(ratio > 0 && ratio <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(CoresetRatio), $"CoresetRatio must be in (0, 1], got {CoresetRatio}.");
        }

        if (NearestImages < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NearestImages), $"NearestImages must be >= 0 (0 = the whole bank), got {NearestImages}.");
        }


        if (ContextWeight is { } cw && !(cw >= 0 && cw <= 1000))
        {
            throw new ArgumentOutOfRangeException(nameof(ContextWeight), $"ContextWeight must be in [0, 1000], got {ContextWeight}.");
        }

        if (PositionWeight is { } pw && !(pw >= 0 && pw <= 1e6))
        {
            throw new ArgumentOutOfRangeException(nameof(PositionWeight), $"PositionWeight must be in [0, 1e6], got {PositionWeight}.");
        }

        Check(BorderPatches is null or (>= 0 and <= 8), nameof(BorderPatches), BorderPatches!, "in [0, 8]");
        Check(ProjectionDimensions >= 0, nameof(ProjectionDimensions), ProjectionDimensions, ">= 0");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(Threads >= 1, nameof(Threads), Threads, ">= 1");
        Check(MinRegionArea >= 1, nameof(MinRegionArea), MinRegionArea, ">= 1");
        Check(MapSigma >= 0 && float.IsFinite(MapSigma), nameof(MapSigma), MapSigma, "finite and >= 0");

        ArgumentNullException.ThrowIfNull(AutoConfig);
        ArgumentNullException.ThrowIfNull(Threshold);
        Threshold.Validate();
    }

    private static void Check(bool ok, string name, object value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, $"{name} must be {rule}, got {value}.");
        }
    }
}

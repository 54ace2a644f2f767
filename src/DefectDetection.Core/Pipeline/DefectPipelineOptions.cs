using DefectDetection.Imaging.Processing;

namespace DefectDetection.Pipeline;

/// <summary>Options of <see cref="DefectPipeline"/>.</summary>
public sealed class DefectPipelineOptions
{
    /// <summary>Pixels of context added on every side of a region before it is cut out. Default: 0.</summary>
    public int ContextMargin { get; init; }

    /// <summary>How regions that leave the image are filled when cut out. Default: replicate the edge.</summary>
    public BorderMode Border { get; init; } = BorderMode.Replicate;

    /// <summary>Crops handed to a classifier in one call. Default: 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// Most images inspected at once by <see cref="IDefectPipeline.InspectFiles"/>, and most crop batches classified at
    /// once within an image. Default: the number of processors.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Resampling used when a crop is resized to a classifier's input size. Default: bilinear.</summary>
    public ResizeMode CropResize { get; init; } = ResizeMode.Bilinear;

    /// <summary>
    /// Regions whose label has no classifier of its own go to the default classifier; when this is false they are
    /// skipped instead (and counted in the result). Default: true.
    /// </summary>
    public bool UseDefaultClassifierForUnknownLabels { get; init; } = true;

    /// <summary>
    /// Merge defects of the same label whose boxes overlap or touch into one box (their union, the highest
    /// confidence): turns positive overlapping tiles of a sliding window into defect boxes. Default: false.
    /// </summary>
    public bool MergeOverlappingDefects { get; init; }

    /// <summary>
    /// When positive, defects of the same label whose boxes come within this many pixels of each other are one
    /// defect seen from neighbouring regions (a blob between two pins shows in both crops): only the most confident
    /// is kept. Default: 0 (off).
    /// </summary>
    public int DuplicateSuppressionDistance { get; init; }

    /// <summary>
    /// Images with more pixels than this are given to a detector that can work on parts of an image
    /// (<see cref="ITileableRoiDetector"/>) in overlapping square tiles of about this many pixels, one tile at a time,
    /// so that the detector never converts the whole image (to luma floats, pyramids, difference masks). Crops are cut
    /// batch by batch in any case, so the memory beyond the image itself stays bounded. Default: 40,000,000.
    /// </summary>
    public long MaxDetectionPixels { get; init; } = 40_000_000;

    /// <summary>
    /// Pixels shared by neighbouring detection tiles (rounded up to a multiple of 64; the detector's own
    /// <see cref="ITileableRoiDetector.MinimumTileOverlap"/> is used when larger). Regions are kept by the tile whose
    /// core holds their centre, so they must fit within half the overlap around it. Default: 256.
    /// </summary>
    public int DetectionTileOverlap { get; init; } = 256;

    internal void Validate()
    {
        if (MaxDetectionPixels < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDetectionPixels), $"MaxDetectionPixels must be at least 4096, got {MaxDetectionPixels}.");
        }

        if (DetectionTileOverlap < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DetectionTileOverlap), $"DetectionTileOverlap must not be negative, got {DetectionTileOverlap}.");
        }

        if (ContextMargin < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextMargin), $"ContextMargin must not be negative, got {ContextMargin}.");
        }

        if (DuplicateSuppressionDistance < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DuplicateSuppressionDistance), $"DuplicateSuppressionDistance must not be negative, got {DuplicateSuppressionDistance}.");
        }

        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), $"BatchSize must be positive, got {BatchSize}.");
        }

        if (MaxDegreeOfParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), $"MaxDegreeOfParallelism must be positive, got {MaxDegreeOfParallelism}.");
        }
    }
}

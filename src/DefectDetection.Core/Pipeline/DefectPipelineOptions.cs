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

    internal void Validate()
    {
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

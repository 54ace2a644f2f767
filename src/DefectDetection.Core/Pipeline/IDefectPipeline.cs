using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <summary>
/// Inspects high-resolution images in two stages: an <see cref="IRoiDetector"/> finds regions of interest, and crop
/// classifiers judge each region at full resolution.
/// </summary>
public interface IDefectPipeline
{
    /// <summary>Inspects one image.</summary>
    /// <param name="image">The full-resolution image.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    InspectionResult Inspect(ImageView image, CancellationToken cancellationToken = default);

    /// <summary>Inspects images in parallel (bounded by the pipeline's options), returning results in input order.</summary>
    /// <param name="imagePaths">Image files to load and inspect.</param>
    /// <param name="progress">Receives one report per finished image.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <exception cref="AggregateException">
    /// Holds what went wrong with the images: an <see cref="ArgumentException"/> whose message starts with the file
    /// when an image does not suit the pipeline, <see cref="InvalidImageContentException"/> when it cannot be decoded.
    /// </exception>
    IReadOnlyList<InspectionResult> InspectFiles(
        IReadOnlyList<string> imagePaths,
        IProgress<InspectionProgress>? progress = null,
        CancellationToken cancellationToken = default);
}

/// <summary>Progress of a batch inspection.</summary>
/// <param name="Completed">Images finished so far.</param>
/// <param name="Total">Images in the batch.</param>
/// <param name="LastImage">The image that just finished.</param>
public readonly record struct InspectionProgress(int Completed, int Total, string? LastImage);

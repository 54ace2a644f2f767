using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <summary>
/// Stage 1 of a <see cref="IDefectPipeline"/>: finds the regions of an image worth judging (tiles, template matches,
/// the parts of a fixed layout, objects found by a detector network). Implementations are safe to call from
/// several threads at once.
/// </summary>
public interface IRoiDetector
{
    /// <summary>Finds the regions of interest of one image.</summary>
    /// <param name="image">The full-resolution image.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The regions, in image coordinates; boxes may reach past the image borders.</returns>
    IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default);
}

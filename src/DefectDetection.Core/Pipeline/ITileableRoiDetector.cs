using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <summary>
/// An <see cref="IRoiDetector"/> that can examine one part of a large image, reading (and converting) only the
/// pixels of that part. A <see cref="DefectPipeline"/> hands images with more than
/// <see cref="DefectPipelineOptions.MaxDetectionPixels"/> pixels to such a detector tile by tile (overlapping tiles,
/// regions mapped back to the image and each kept by the one tile whose core holds its centre), so that an image is
/// never converted whole to a working format such as floats.
/// </summary>
public interface ITileableRoiDetector : IRoiDetector
{
    /// <summary>
    /// The least overlap in pixels between neighbouring tiles for which the tiled detection finds the same regions as
    /// one call on the whole image: about twice the extent of the largest region plus the context the detector reads
    /// around it. The pipeline uses the larger of this and <see cref="DefectPipelineOptions.DetectionTileOverlap"/>.
    /// </summary>
    int MinimumTileOverlap { get; }

    /// <summary>Finds the regions of interest within one tile of an image.</summary>
    /// <param name="image">The whole image (only the pixels inside <paramref name="tile"/> may be read).</param>
    /// <param name="tile">The part to examine, inside the image.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The regions found in the tile, in image coordinates.</returns>
    IReadOnlyList<RegionOfInterest> DetectTile(ImageView image, Rectangle tile, CancellationToken cancellationToken = default);
}

using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Pipeline;

/// <summary>
/// A crop classifier that cuts its crops itself, straight from the full-resolution image into its own input (for
/// example resizing each region directly into a network's input tensor), so that a <see cref="DefectPipeline"/> makes
/// no intermediate crop images. The pipeline's <see cref="DefectPipelineOptions.CropResize"/> does not apply: the
/// classifier resizes as it was trained to.
/// </summary>
public interface IRegionCropClassifier : ICropClassifier
{
    /// <summary>Judges a batch of regions of one image.</summary>
    /// <param name="image">The full-resolution image.</param>
    /// <param name="regions">The regions to judge (already grown by the pipeline's context margin); they may leave the image.</param>
    /// <param name="border">How pixels outside the image are made.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>One verdict per region, in the same order.</returns>
    IReadOnlyList<CropVerdict> Classify(ImageView image, IReadOnlyList<Rectangle> regions, BorderMode border, CancellationToken cancellationToken = default);
}

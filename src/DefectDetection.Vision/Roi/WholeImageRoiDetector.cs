using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Roi;

/// <summary>
/// One region: the whole image. Runs a whole-image model (an anomaly model, an image classifier) through a
/// <see cref="DefectPipeline"/>, whose result then carries the model's located defects in image coordinates.
/// </summary>
/// <param name="label">The region's label (which picks the classifier). Default: "image".</param>
public sealed class WholeImageRoiDetector(string label = "image") : IRoiDetector
{
    /// <summary>The label given to the region.</summary>
    public string Label { get; } = string.IsNullOrEmpty(label) ? throw new ArgumentException("The label must not be empty.", nameof(label)) : label;

    /// <inheritdoc />
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) =>
        [new RegionOfInterest(new Rectangle(0, 0, image.Width, image.Height), Label)];
}

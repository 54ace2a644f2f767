using DefectDetection.Imaging;

namespace DefectDetection.Vision.Anomaly;

/// <summary>One connected region of an anomaly mask.</summary>
/// <param name="Bounds">Bounding box in image pixels.</param>
/// <param name="Area">Pixels in the region.</param>
/// <param name="PercentOfImage">Area as a percentage (0..100) of the image.</param>
/// <param name="Label">"anomaly", or "bright" / "dark" for the variation model.</param>
internal sealed record AnomalyRegion(Rectangle Bounds, int Area, double PercentOfImage, string Label);

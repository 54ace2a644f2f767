using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <summary>A region of interest found by an <see cref="IRoiDetector"/>: a box in full-resolution image coordinates.</summary>
/// <param name="Box">The region, in pixels of the full-resolution image.</param>
/// <param name="Label">What the detector says the region is (for example "pin"); chooses the crop classifier. Null for any.</param>
/// <param name="Score">The detector's confidence in [0, 1] (1 for detectors that do not score).</param>
public readonly record struct RegionOfInterest(Rectangle Box, string? Label = null, float Score = 1f);

namespace DefectDetection.Imaging.Processing;

/// <summary>How <see cref="ImageResizer"/> computes output pixels.</summary>
public enum ResizeMode
{
    /// <summary>
    /// Bilinear interpolation with half-pixel centres and no antialiasing: output pixel <c>o</c> samples the
    /// source at <c>(o + 0.5) * in / out - 0.5</c>, clamped to the edges. This is OpenCV's <c>INTER_LINEAR</c>
    /// and PyTorch's <c>interpolate(mode="bilinear", align_corners=False, antialias=False)</c>.
    /// Strong downscaling (more than 2x) skips source pixels and aliases; use <see cref="Area"/> there.
    /// </summary>
    Bilinear = 0,

    /// <summary>
    /// Area (box) averaging, as OpenCV's <c>INTER_AREA</c>: when an axis shrinks, every output pixel is the mean
    /// of the source pixels it covers, weighted by the covered fraction (non-integer ratios included). When an
    /// axis grows, OpenCV's area-upscale weights are used (nearest-like with a linear blend at cell edges).
    /// The two axes are treated independently, which for downscaling is exactly the 2-D box average. (OpenCV
    /// differs only when one axis shrinks while the other grows: it then uses the enlarging weights on both.)
    /// </summary>
    Area = 1,
}

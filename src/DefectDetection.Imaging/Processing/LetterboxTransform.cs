namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Where a letterboxed image landed in the tensor: resized by <see cref="Scale"/> to
/// <see cref="ResizedWidth"/> x <see cref="ResizedHeight"/> and placed at (<see cref="OffsetX"/>, <see cref="OffsetY"/>).
/// </summary>
/// <param name="Scale">min(tensor width / image width, tensor height / image height).</param>
/// <param name="OffsetX">Left edge of the image in the tensor.</param>
/// <param name="OffsetY">Top edge of the image in the tensor.</param>
/// <param name="ResizedWidth">floor(image width x scale), at least 1.</param>
/// <param name="ResizedHeight">floor(image height x scale), at least 1.</param>
public readonly record struct LetterboxTransform(float Scale, int OffsetX, int OffsetY, int ResizedWidth, int ResizedHeight)
{
    /// <summary>Maps a tensor x coordinate back to the source image: (x - OffsetX) / Scale.</summary>
    public float ToSourceX(float x) => (x - OffsetX) / Scale;

    /// <summary>Maps a tensor y coordinate back to the source image: (y - OffsetY) / Scale.</summary>
    public float ToSourceY(float y) => (y - OffsetY) / Scale;
}

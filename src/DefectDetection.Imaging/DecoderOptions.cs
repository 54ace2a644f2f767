namespace DefectDetection.Imaging;

/// <summary>Options shared by all decoders. Defaults are safe against decompression bombs.</summary>
public sealed class DecoderOptions
{
    /// <summary>The defaults: orientation applied, at most 200 megapixels and 1 GiB of pixel memory.</summary>
    public static DecoderOptions Default { get; } = new();

    /// <summary>
    /// Apply the EXIF orientation so that the decoded image is upright, as image viewers do. Default: <c>true</c>.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>
    /// The largest image accepted, in pixels (width x height). Larger headers are rejected before any pixel
    /// memory is allocated. Default: 200,000,000.
    /// </summary>
    public long MaxPixels { get; init; } = 200_000_000;

    /// <summary>
    /// The most memory one decode may allocate for pixel and coefficient buffers, in bytes. Default: 1 GiB.
    /// </summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>The largest encoded input accepted, in bytes. Default: 512 MiB.</summary>
    public long MaxInputBytes { get; init; } = 512L << 20;

    /// <summary>
    /// JPEG: the most scans (SOS segments) one file may hold, as libjpeg-turbo's <c>djpeg -maxscans</c>. Every scan
    /// of a progressive file passes over the whole image, so a small file of many empty scans would otherwise keep
    /// the decoder busy for minutes. Real progressive files hold about 10 scans (at most one per component and
    /// coefficient band and bit); the default, 1000, lets all of them through. At least 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxScans
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxScans), value, "At least one scan must be allowed.");
    } = 1000;

    /// <summary>Throws <see cref="InvalidImageContentException"/> if a header declares an image beyond the limits.</summary>
    /// <param name="format">The format being decoded, for the message.</param>
    /// <param name="width">Declared width.</param>
    /// <param name="height">Declared height.</param>
    /// <param name="bytesPerPixel">Bytes the decoder will hold per pixel at its peak (for the byte limit).</param>
    /// <param name="offset">Offset of the header field, for the message.</param>
    public void CheckDimensions(ImageFormat format, long width, long height, double bytesPerPixel, long offset)
    {
        if (width <= 0 || height <= 0)
        {
            throw new InvalidImageContentException(format, offset, $"invalid dimensions {width}x{height}");
        }

        if (width > int.MaxValue / 8 || height > int.MaxValue / 8 || width * height > MaxPixels)
        {
            throw new InvalidImageContentException(format, offset,
                $"image of {width}x{height} pixels exceeds the limit of {MaxPixels:N0} pixels (raise DecoderOptions.MaxPixels to allow it)");
        }

        double bytes = width * (double)height * bytesPerPixel;
        if (bytes > MaxBytes)
        {
            throw new InvalidImageContentException(format, offset,
                $"image of {width}x{height} pixels needs about {bytes / (1 << 20):N0} MiB, over the limit of {MaxBytes / (1 << 20):N0} MiB (raise DecoderOptions.MaxBytes to allow it)");
        }
    }
}

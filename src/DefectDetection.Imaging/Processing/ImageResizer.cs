namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Resizes 8-bit images (<see cref="PixelFormat.Gray8"/>, <see cref="PixelFormat.Rgb24"/>,
/// <see cref="PixelFormat.Rgba32"/>, channels treated independently, alpha not premultiplied) and single-channel
/// float maps. Separable: each source row is resampled horizontally once into a small pooled float ring, and
/// output rows are weighted sums of ring rows (vectorised). Weights are computed once per call and per axis.
/// 8-bit results are rounded to nearest (half up) and saturated.
/// </summary>
public static class ImageResizer
{
    /// <summary>Returns <paramref name="source"/> resized to <paramref name="width"/> x <paramref name="height"/>.</summary>
    /// <param name="source">The image or view to resize.</param>
    /// <param name="width">Output width (1 or more).</param>
    /// <param name="height">Output height (1 or more).</param>
    /// <param name="mode">The resampling method. Default: <see cref="ResizeMode.Bilinear"/>.</param>
    public static Image Resize(ImageView source, int width, int height, ResizeMode mode = ResizeMode.Bilinear)
    {
        CheckSize(width, height);
        Image result = Image.CreateUninitialized(width, height, source.PixelFormat);
        try
        {
            Resize(source, result, mode);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Resizes <paramref name="source"/> into <paramref name="destination"/> (same pixel format, any size, another image).</summary>
    /// <param name="source">The image or view to resize.</param>
    /// <param name="destination">Receives the result; its size is the output size.</param>
    /// <param name="mode">The resampling method. Default: <see cref="ResizeMode.Bilinear"/>.</param>
    public static void Resize(ImageView source, Image destination, ResizeMode mode = ResizeMode.Bilinear)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.PixelFormat != source.PixelFormat)
        {
            throw new ArgumentException($"The destination is {destination.PixelFormat}, the source {source.PixelFormat}.", nameof(destination));
        }

        if (ReferenceEquals(source.Source, destination))
        {
            throw new ArgumentException("The destination must be another image than the source.", nameof(destination));
        }

        CheckMode(mode);
        using ResampleTable tx = ResampleTable.Create(source.Width, destination.Width, mode);
        using ResampleTable ty = ResampleTable.Create(source.Height, destination.Height, mode);
        ViewSource src = new(source);
        ImageSink sink = new(destination);
        Resampler.Run(ref src, ref sink, tx, ty, source.Channels);
    }

    /// <summary>
    /// Resizes a single-channel float map (row-major, <paramref name="sourceWidth"/> x <paramref name="sourceHeight"/>)
    /// into <paramref name="destination"/> (<paramref name="width"/> x <paramref name="height"/>), with the same
    /// weights as the 8-bit resize and no rounding.
    /// </summary>
    /// <param name="source">The map, at least width x height values.</param>
    /// <param name="sourceWidth">Map width.</param>
    /// <param name="sourceHeight">Map height.</param>
    /// <param name="destination">Receives width x height values.</param>
    /// <param name="width">Output width.</param>
    /// <param name="height">Output height.</param>
    /// <param name="mode">The resampling method. Default: <see cref="ResizeMode.Bilinear"/>.</param>
    public static void Resize(ReadOnlySpan<float> source, int sourceWidth, int sourceHeight, Span<float> destination, int width, int height,
        ResizeMode mode = ResizeMode.Bilinear)
    {
        CheckSize(sourceWidth, sourceHeight);
        CheckSize(width, height);
        CheckMode(mode);
        if (source.Length < (long)sourceWidth * sourceHeight)
        {
            throw new ArgumentException($"The map holds {source.Length} values, fewer than {sourceWidth}x{sourceHeight}.", nameof(source));
        }

        if (destination.Length < (long)width * height)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values, fewer than {width}x{height}.", nameof(destination));
        }

        using ResampleTable tx = ResampleTable.Create(sourceWidth, width, mode);
        using ResampleTable ty = ResampleTable.Create(sourceHeight, height, mode);
        FloatMapSource src = new(source, sourceWidth);
        FloatMapSink sink = new(destination, width);
        Resampler.Run(ref src, ref sink, tx, ty, 1);
    }

    internal static void CheckSize(int width, int height)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Sizes must be positive, got {width}x{height}.");
        }
    }

    internal static void CheckMode(ResizeMode mode)
    {
        if (mode is not (ResizeMode.Bilinear or ResizeMode.Area))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown resize mode.");
        }
    }
}

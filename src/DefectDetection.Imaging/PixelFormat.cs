namespace DefectDetection.Imaging;

/// <summary>The in-memory layout of an <see cref="Image"/>'s pixels: interleaved 8-bit channels.</summary>
public enum PixelFormat
{
    /// <summary>One 8-bit luminance channel.</summary>
    Gray8 = 1,

    /// <summary>Three 8-bit channels in R, G, B order.</summary>
    Rgb24 = 3,

    /// <summary>Four 8-bit channels in R, G, B, A order (straight, not premultiplied, alpha).</summary>
    Rgba32 = 4,
}

/// <summary>Helpers for <see cref="PixelFormat"/>.</summary>
public static class PixelFormatExtensions
{
    /// <summary>Number of interleaved 8-bit channels of one pixel.</summary>
    public static int ChannelCount(this PixelFormat format) => format switch
    {
        PixelFormat.Gray8 => 1,
        PixelFormat.Rgb24 => 3,
        PixelFormat.Rgba32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };
}

namespace DefectDetection.Imaging;

/// <summary>What a decoder learns from a file's header without decoding its pixels.</summary>
/// <param name="Format">The file format.</param>
/// <param name="Width">Stored width in pixels, before any EXIF orientation is applied.</param>
/// <param name="Height">Stored height in pixels, before any EXIF orientation is applied.</param>
/// <param name="Channels">Number of colour channels in the file (1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha or CMYK).</param>
/// <param name="BitDepth">Bits per sample in the file (1, 2, 4, 8 or 16).</param>
/// <param name="PixelFormat">The <see cref="Imaging.PixelFormat"/> that <c>Decode</c> produces for this file.</param>
/// <param name="Orientation">The EXIF orientation stored in the file, <see cref="ExifOrientation.Unknown"/> when absent.</param>
public sealed record ImageInfo(
    ImageFormat Format,
    int Width,
    int Height,
    int Channels,
    int BitDepth,
    PixelFormat PixelFormat,
    ExifOrientation Orientation = ExifOrientation.Unknown)
{
    /// <summary>Format-specific details for people (for example "progressive, 4:2:0" or "palette, interlaced").</summary>
    public string? Details { get; init; }

    /// <summary>True when the orientation swaps width and height (orientations 5 to 8).</summary>
    public bool OrientationSwapsAxes => Orientation is ExifOrientation.LeftTop or ExifOrientation.RightTop
        or ExifOrientation.RightBottom or ExifOrientation.LeftBottom;

    /// <summary>Width as displayed once the orientation is applied.</summary>
    public int DisplayWidth => OrientationSwapsAxes ? Height : Width;

    /// <summary>Height as displayed once the orientation is applied.</summary>
    public int DisplayHeight => OrientationSwapsAxes ? Width : Height;
}

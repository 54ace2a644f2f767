namespace DefectDetection.Imaging.Formats.Png;

/// <summary>The PNG colour types (IHDR byte 9).</summary>
internal enum PngColorType : byte
{
    Grayscale = 0,
    Rgb = 2,
    Palette = 3,
    GrayscaleAlpha = 4,
    RgbAlpha = 6,
}

/// <summary>The fields of IHDR that decoding needs.</summary>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, PngColorType ColorType, bool Interlaced)
{
    /// <summary>Samples per pixel in the file.</summary>
    public int SamplesPerPixel => ColorType switch
    {
        PngColorType.Grayscale or PngColorType.Palette => 1,
        PngColorType.GrayscaleAlpha => 2,
        PngColorType.Rgb => 3,
        _ => 4,
    };

    /// <summary>Bits per pixel in the file.</summary>
    public int BitsPerPixel => SamplesPerPixel * BitDepth;

    /// <summary>The filter byte step: bytes per complete pixel, rounded up to 1.</summary>
    public int FilterStep => Math.Max(1, BitsPerPixel / 8);

    /// <summary>Bytes in one filtered row of <paramref name="width"/> pixels, without the filter-type byte.</summary>
    public long RowBytes(int width) => (((long)width * BitsPerPixel) + 7) / 8;
}

/// <summary>PNG constants shared by the decoder and the encoder.</summary>
internal static class PngConstants
{
    /// <summary>The 8-byte signature that starts every PNG file.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public const uint Ihdr = 0x49484452;
    public const uint Plte = 0x504C5445;
    public const uint Idat = 0x49444154;
    public const uint Iend = 0x49454E44;
    public const uint Trns = 0x74524E53;
    public const uint Exif = 0x65584966;

    /// <summary>Adam7 pass origins and steps: x0, y0, dx, dy for each of the seven passes.</summary>
    public static ReadOnlySpan<byte> Adam7 =>
    [
        0, 0, 8, 8,
        4, 0, 8, 8,
        0, 4, 4, 8,
        2, 0, 4, 4,
        0, 2, 2, 4,
        1, 0, 2, 2,
        0, 1, 1, 2,
    ];

    /// <summary>The four ASCII letters of a chunk type, with unprintable bytes escaped.</summary>
    public static string ChunkName(uint type)
    {
        Span<char> name = stackalloc char[4];
        for (int i = 0; i < 4; i++)
        {
            byte b = (byte)(type >> (24 - (8 * i)));
            name[i] = b is >= 0x20 and < 0x7F ? (char)b : '?';
        }

        return new string(name);
    }
}

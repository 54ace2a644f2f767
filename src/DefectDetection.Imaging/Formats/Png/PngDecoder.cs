namespace DefectDetection.Imaging.Formats.Png;

/// <summary>
/// Decodes PNG images: every colour type (gray, RGB, palette, gray+alpha, RGBA) and bit depth (1, 2, 4, 8, 16),
/// tRNS transparency, Adam7 interlacing and all five filters. The CRC of every chunk is checked.
/// </summary>
/// <remarks>
/// Output formats: gray becomes <see cref="PixelFormat.Gray8"/>; RGB and palette images become
/// <see cref="PixelFormat.Rgb24"/>; gray+alpha, RGBA, and any image with a tRNS chunk become
/// <see cref="PixelFormat.Rgba32"/> (a tRNS colour key gives alpha 0 on matching pixels, 255 elsewhere).
/// Gray samples of 1, 2 and 4 bits are scaled exactly to 0..255. 16-bit samples are reduced to 8 bits by keeping
/// the high byte (v &gt;&gt; 8), as libpng's <c>png_set_strip_16</c> does; this is a truncation, not rounding.
/// An EXIF orientation in an eXIf chunk is reported by <c>Identify</c> and applied by <c>Decode</c> when
/// <see cref="DecoderOptions.ApplyExifOrientation"/> is set. No gamma or colour-space chunk is applied; other
/// ancillary chunks are skipped.
/// </remarks>
public sealed class PngDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Png;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) => header.StartsWith(PngConstants.Signature);

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new PngDecoderCore(options ?? DecoderOptions.Default).Identify(data);

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new PngDecoderCore(options ?? DecoderOptions.Default).Decode(data);
}

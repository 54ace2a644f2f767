namespace DefectDetection.Imaging.Formats.Bmp;

/// <summary>
/// Decodes Windows bitmaps: 1-, 4- and 8-bit palette images, 16-bit (5-5-5 or bit fields), 24-bit and 32-bit
/// (BI_RGB or BI_BITFIELDS / BI_ALPHABITFIELDS), bottom-up or top-down (negative height). RLE-compressed,
/// JPEG- and PNG-embedded bitmaps are rejected with <see cref="InvalidImageContentException"/>.
/// </summary>
/// <remarks>
/// Output formats: palette images whose colours are all gray become <see cref="PixelFormat.Gray8"/>, other
/// palette images and 16/24/32-bit images <see cref="PixelFormat.Rgb24"/>; bit-field images with a non-zero
/// alpha mask become <see cref="PixelFormat.Rgba32"/>. The fourth byte of 32-bit BI_RGB pixels is unused by
/// the format and ignored. Bit-field channels narrower than 8 bits are scaled to 0..255 with rounding.
/// </remarks>
public sealed class BmpDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Bmp;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) => header.Length >= 2 && header[0] == (byte)'B' && header[1] == (byte)'M';

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new BmpDecoderCore(options ?? DecoderOptions.Default).Identify(data);

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new BmpDecoderCore(options ?? DecoderOptions.Default).Decode(data);
}

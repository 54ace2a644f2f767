namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// Decodes JPEG images: baseline and progressive Huffman-coded, 8-bit, grayscale, YCbCr, RGB, CMYK and YCCK,
/// any sampling factors, restart intervals and EXIF orientation. Output matches libjpeg-turbo's default
/// settings (accurate integer IDCT, "fancy" triangular chroma upsampling). Gray files decode to
/// <see cref="PixelFormat.Gray8"/>, all others to <see cref="PixelFormat.Rgb24"/>. Arithmetic-coded, lossless,
/// hierarchical and 12-bit files are rejected with <see cref="InvalidImageContentException"/>, as are truncated
/// scans (the decoder never returns a partly decoded image as if it were complete).
/// </summary>
public sealed class JpegDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Jpeg;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) =>
        header.Length >= 3 && header[0] == 0xFF && header[1] == 0xD8 && header[2] == 0xFF;

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new JpegDecoderCore(options ?? DecoderOptions.Default).Identify(data);

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new JpegDecoderCore(options ?? DecoderOptions.Default).Decode(data);
}

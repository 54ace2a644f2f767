namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// Decodes JPEG images: baseline and progressive Huffman-coded, 8-bit, grayscale, YCbCr, RGB, CMYK and YCCK,
/// any sampling factors, restart intervals and EXIF orientation. Output matches libjpeg-turbo's default
/// settings (accurate integer IDCT, "fancy" triangular chroma upsampling). Gray files decode to
/// <see cref="PixelFormat.Gray8"/>, all others to <see cref="PixelFormat.Rgb24"/>. Arithmetic-coded, lossless,
/// hierarchical and 12-bit files are rejected with <see cref="InvalidImageContentException"/>.
/// </summary>
/// <remarks>
/// Damaged data: a scan that runs out of data (a truncated file) throws instead of being filled with gray as
/// libjpeg does, so a partly decoded image is never returned as if it were complete. A sequential file whose
/// only scan is complete but lacks the final EOI marker is accepted; a progressive file must reach EOI (a
/// missing scan could not be told from a finished image otherwise). Inside a restart interval, damage that
/// makes the decoder run into the next RSTn marker is tolerated: the rest of that interval stays as decoded
/// and decoding resumes in sync at the marker, as in libjpeg.
/// </remarks>
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

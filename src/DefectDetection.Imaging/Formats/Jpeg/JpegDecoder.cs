namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>Decodes Jpeg images. (Placeholder: being implemented.)</summary>
public sealed class JpegDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Jpeg;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) => false;

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Jpeg, -1, "decoder not implemented yet");

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Jpeg, -1, "decoder not implemented yet");
}

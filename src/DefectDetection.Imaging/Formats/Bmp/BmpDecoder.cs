namespace DefectDetection.Imaging.Formats.Bmp;

/// <summary>Decodes Bmp images. (Placeholder: being implemented.)</summary>
public sealed class BmpDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Bmp;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) => false;

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Bmp, -1, "decoder not implemented yet");

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Bmp, -1, "decoder not implemented yet");
}

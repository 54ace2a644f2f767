namespace DefectDetection.Imaging.Formats.Png;

/// <summary>Decodes Png images. (Placeholder: being implemented.)</summary>
public sealed class PngDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Png;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) => false;

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Png, -1, "decoder not implemented yet");

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Png, -1, "decoder not implemented yet");
}

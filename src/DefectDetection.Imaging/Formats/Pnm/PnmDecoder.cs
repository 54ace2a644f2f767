namespace DefectDetection.Imaging.Formats.Pnm;

/// <summary>Decodes Pnm images. (Placeholder: being implemented.)</summary>
public sealed class PnmDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Pnm;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) => false;

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Pnm, -1, "decoder not implemented yet");

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        throw new InvalidImageContentException(ImageFormat.Pnm, -1, "decoder not implemented yet");
}

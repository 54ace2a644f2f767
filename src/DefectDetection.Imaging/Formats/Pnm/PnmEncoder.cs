namespace DefectDetection.Imaging.Formats.Pnm;

/// <summary>Encodes Pnm images. (Placeholder: being implemented.)</summary>
public sealed class PnmEncoder : IImageEncoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Pnm;

    /// <inheritdoc />
    public void Encode(ImageView image, Stream output) => throw new NotSupportedException("not implemented yet");
}

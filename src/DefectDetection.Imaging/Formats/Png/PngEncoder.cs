namespace DefectDetection.Imaging.Formats.Png;

/// <summary>Encodes Png images. (Placeholder: being implemented.)</summary>
public sealed class PngEncoder : IImageEncoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Png;

    /// <inheritdoc />
    public void Encode(ImageView image, Stream output) => throw new NotSupportedException("not implemented yet");
}

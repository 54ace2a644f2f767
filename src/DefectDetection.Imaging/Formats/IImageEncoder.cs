namespace DefectDetection.Imaging.Formats;

/// <summary>Encodes images in one format. Implementations are immutable and safe to share between threads.</summary>
public interface IImageEncoder
{
    /// <summary>The format written.</summary>
    ImageFormat Format { get; }

    /// <summary>Writes <paramref name="image"/> to <paramref name="output"/>.</summary>
    /// <exception cref="NotSupportedException">The format cannot hold this pixel format.</exception>
    void Encode(ImageView image, Stream output);
}

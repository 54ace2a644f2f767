namespace DefectDetection.Imaging.Formats;

/// <summary>Decodes one image format. Implementations are stateless and safe to share between threads.</summary>
public interface IImageDecoder
{
    /// <summary>The format this decoder reads.</summary>
    ImageFormat Format { get; }

    /// <summary>True when <paramref name="header"/> (the first bytes of a file) carries this format's signature.</summary>
    bool IsSupportedHeader(ReadOnlySpan<byte> header);

    /// <summary>Reads the header only: size, channels, bit depth, orientation.</summary>
    /// <exception cref="InvalidImageContentException">The data is malformed or over the limits.</exception>
    ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null);

    /// <summary>Decodes the whole image.</summary>
    /// <exception cref="InvalidImageContentException">The data is malformed, truncated or over the limits.</exception>
    Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null);
}

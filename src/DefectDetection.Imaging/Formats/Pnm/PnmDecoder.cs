namespace DefectDetection.Imaging.Formats.Pnm;

/// <summary>
/// Decodes Netpbm gray and colour maps: PGM (P2 plain, P5 raw) and PPM (P3 plain, P6 raw), with any maxval from
/// 1 to 65535 and comments anywhere in the header.
/// </summary>
/// <remarks>
/// PGM becomes <see cref="PixelFormat.Gray8"/>, PPM <see cref="PixelFormat.Rgb24"/>. Samples are scaled to 0..255
/// as round(v x 255 / maxval), so maxval 255 is kept exactly. Plain (ASCII) rasters may also carry comments.
/// Samples above maxval are an error. Only the first image of a multi-image file is read.
/// </remarks>
public sealed class PnmDecoder : IImageDecoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Pnm;

    /// <inheritdoc />
    public bool IsSupportedHeader(ReadOnlySpan<byte> header) =>
        header.Length >= 3 && header[0] == (byte)'P' && header[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6'
        && PnmDecoderCore.IsWhitespace(header[2]);

    /// <inheritdoc />
    public ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new PnmDecoderCore(options ?? DecoderOptions.Default).Identify(data);

    /// <inheritdoc />
    public Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        new PnmDecoderCore(options ?? DecoderOptions.Default).Decode(data);
}

namespace DefectDetection.Imaging;

/// <summary>
/// Raised when an encoded image is malformed, truncated, unsupported or exceeds the configured limits.
/// Every decoder failure ends in this exception, with the format, the byte offset where the problem was
/// found, and the reason.
/// </summary>
public sealed class InvalidImageContentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="format">The format being decoded (or <see cref="ImageFormat.Unknown"/>).</param>
    /// <param name="offset">Byte offset in the input where the problem was found, or -1 when it is not tied to a position.</param>
    /// <param name="reason">What is wrong, in words for people.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public InvalidImageContentException(ImageFormat format, long offset, string reason, Exception? inner = null)
        : base(BuildMessage(format, offset, reason), inner)
    {
        Format = format;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The format being decoded.</summary>
    public ImageFormat Format { get; }

    /// <summary>Byte offset in the input where the problem was found, or -1.</summary>
    public long Offset { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    /// <summary>The file the bytes came from, when known (set by the file-level helpers).</summary>
    public string? FilePath { get; init; }

    /// <inheritdoc />
    public override string Message => FilePath is null ? base.Message : $"{FilePath}: {base.Message}";

    private static string BuildMessage(ImageFormat format, long offset, string reason)
    {
        string name = format == ImageFormat.Unknown ? "Image" : format.ToString().ToUpperInvariant();
        return offset >= 0 ? $"{name}: {reason} (at byte offset {offset})." : $"{name}: {reason}.";
    }

    internal InvalidImageContentException WithFile(string path) =>
        new(Format, Offset, Reason, InnerException) { FilePath = path };
}

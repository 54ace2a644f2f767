using System.Diagnostics.CodeAnalysis;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>One-line throw helpers for the PNG codec, so that the hot paths stay small.</summary>
internal static class PngThrowHelper
{
    [DoesNotReturn]
    public static void ThrowInvalid(long offset, string reason) =>
        throw new InvalidImageContentException(ImageFormat.Png, offset, reason);

    [DoesNotReturn]
    public static void ThrowInvalid(long offset, string reason, Exception inner) =>
        throw new InvalidImageContentException(ImageFormat.Png, offset, reason, inner);

    [DoesNotReturn]
    public static void ThrowTruncated(long offset, string what) =>
        throw new InvalidImageContentException(ImageFormat.Png, offset, $"the data ends inside {what} (truncated file)");

    [DoesNotReturn]
    public static void ThrowBadCrc(string chunk, long offset, uint stored, uint computed) =>
        throw new InvalidImageContentException(ImageFormat.Png, offset, $"CRC mismatch in chunk {chunk}: stored 0x{stored:X8}, computed 0x{computed:X8}");
}

using System.Runtime.CompilerServices;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging;

/// <summary>
/// An 8-bit image with interleaved channels (<see cref="PixelFormat"/>), rows stored top to bottom with no
/// padding (<see cref="Stride"/> = width x channels). Pixel memory is pooled: dispose images you no longer need.
/// Cheap crops are taken with <see cref="View(Rectangle)"/>.
/// </summary>
public sealed partial class Image : IDisposable
{
    private byte[]? _buffer;

    private Image(int width, int height, PixelFormat format, byte[] buffer)
    {
        Width = width;
        Height = height;
        PixelFormat = format;
        Channels = format.ChannelCount();
        Stride = width * Channels;
        _buffer = buffer;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixel layout.</summary>
    public PixelFormat PixelFormat { get; }

    /// <summary>Channels per pixel (1, 3 or 4).</summary>
    public int Channels { get; }

    /// <summary>Bytes per row.</summary>
    public int Stride { get; }

    /// <summary>Size of the pixel data in bytes.</summary>
    public int ByteCount => Stride * Height;

    /// <summary>The whole image as a rectangle.</summary>
    public Rectangle Bounds => new(0, 0, Width, Height);

    /// <summary>All pixel bytes, row after row.</summary>
    public Span<byte> Pixels => Buffer.AsSpan(0, ByteCount);

    internal byte[] Buffer => _buffer ?? ThrowDisposed();

    /// <summary>Creates an image with every byte set to zero.</summary>
    /// <param name="width">Width in pixels (1 or more).</param>
    /// <param name="height">Height in pixels (1 or more).</param>
    /// <param name="format">Pixel layout.</param>
    public static Image Create(int width, int height, PixelFormat format) => CreateCore(width, height, format, clear: true);

    /// <summary>Creates an image whose pixels are left as found in the pool (callers overwrite every byte).</summary>
    internal static Image CreateUninitialized(int width, int height, PixelFormat format) => CreateCore(width, height, format, clear: false);

    /// <summary>Creates an image holding a copy of <paramref name="pixels"/> (row after row, no padding).</summary>
    public static Image FromPixels(int width, int height, PixelFormat format, ReadOnlySpan<byte> pixels)
    {
        Image image = CreateCore(width, height, format, clear: false);
        if (pixels.Length != image.ByteCount)
        {
            image.Dispose();
            throw new ArgumentException($"Expected {width}x{height}x{format.ChannelCount()} = {(long)width * height * format.ChannelCount()} bytes, got {pixels.Length}.", nameof(pixels));
        }

        pixels.CopyTo(image.Pixels);
        return image;
    }

    private static Image CreateCore(int width, int height, PixelFormat format, bool clear)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size must be positive, got {width}x{height}.");
        }

        long bytes = (long)width * height * format.ChannelCount();
        if (bytes > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"An image of {width}x{height} {format} needs {bytes:N0} bytes, more than one buffer can hold.");
        }

        return new Image(width, height, format, PixelBufferPool.Rent<byte>((int)bytes, clear));
    }

    /// <summary>One row of pixels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetRow(int y)
    {
        if ((uint)y >= (uint)Height)
        {
            ThrowRow(y);
        }

        return Buffer.AsSpan(y * Stride, Stride);
    }

    /// <summary>A view of the whole image.</summary>
    public ImageView View() => new(this, Bounds);

    /// <summary>A cheap view of a rectangle of this image; no pixels are copied.</summary>
    /// <param name="region">The rectangle; it must lie inside the image.</param>
    public ImageView View(Rectangle region) => new(this, region);

    /// <summary>A deep copy.</summary>
    public Image Clone() => FromPixels(Width, Height, PixelFormat, Pixels);

    /// <summary>Returns the pixel memory to the pool. The image cannot be used afterwards.</summary>
    public void Dispose()
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        PixelBufferPool.Return(buffer);
    }

    /// <inheritdoc />
    public override string ToString() => $"Image {Width}x{Height} {PixelFormat}";

    private static byte[] ThrowDisposed() => throw new ObjectDisposedException(nameof(Image));

    private void ThrowRow(int y) => throw new ArgumentOutOfRangeException(nameof(y), $"Row {y} is outside an image of height {Height}.");
}

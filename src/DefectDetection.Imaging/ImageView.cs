using System.Runtime.CompilerServices;

namespace DefectDetection.Imaging;

/// <summary>
/// A rectangle of an <see cref="Image"/>, seen without copying: the cheap crop. Valid while the image is alive.
/// </summary>
public readonly struct ImageView
{
    private readonly Image? _image;

    /// <summary>Creates a view of <paramref name="region"/> of <paramref name="image"/>.</summary>
    /// <param name="image">The image.</param>
    /// <param name="region">A rectangle inside the image.</param>
    public ImageView(Image image, Rectangle region)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (region.IsEmpty || !image.Bounds.Contains(region))
        {
            throw new ArgumentOutOfRangeException(nameof(region), $"Region {region} is empty or outside the image bounds {image.Bounds}.");
        }

        _image = image;
        Region = region;
    }

    /// <summary>The image viewed.</summary>
    public Image Source => _image ?? throw new InvalidOperationException("The view is empty (default).");

    /// <summary>The rectangle of <see cref="Source"/> that the view shows.</summary>
    public Rectangle Region { get; }

    /// <summary>Width in pixels.</summary>
    public int Width => Region.Width;

    /// <summary>Height in pixels.</summary>
    public int Height => Region.Height;

    /// <summary>Pixel layout.</summary>
    public PixelFormat PixelFormat => Source.PixelFormat;

    /// <summary>Channels per pixel.</summary>
    public int Channels => Source.Channels;

    /// <summary>One row of the view (<see cref="Width"/> x <see cref="Channels"/> bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetRow(int y)
    {
        if ((uint)y >= (uint)Region.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(y), $"Row {y} is outside a view of height {Region.Height}.");
        }

        Image image = Source;
        return image.Buffer.AsSpan(((Region.Y + y) * image.Stride) + (Region.X * image.Channels), Region.Width * image.Channels);
    }

    /// <summary>A view of a rectangle inside this view (coordinates relative to the view).</summary>
    public ImageView Slice(Rectangle region)
    {
        if (region.IsEmpty || !new Rectangle(0, 0, Width, Height).Contains(region))
        {
            throw new ArgumentOutOfRangeException(nameof(region), $"Region {region} is outside a view of {Width}x{Height}.");
        }

        return new ImageView(Source, new Rectangle(Region.X + region.X, Region.Y + region.Y, region.Width, region.Height));
    }

    /// <summary>Copies the viewed pixels into a new image.</summary>
    public Image ToImage()
    {
        Image result = Image.CreateUninitialized(Width, Height, PixelFormat);
        for (int y = 0; y < Height; y++)
        {
            GetRow(y).CopyTo(result.GetRow(y));
        }

        return result;
    }

    /// <summary>Views the whole image.</summary>
    public static implicit operator ImageView(Image image) => image.View();
}

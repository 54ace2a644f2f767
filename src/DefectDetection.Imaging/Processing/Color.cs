using System.Runtime.CompilerServices;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// An 8-bit colour for drawing, padding and compositing. Written to <see cref="PixelFormat.Gray8"/> images as
/// its BT.601 luma (<see cref="Luma"/>), to <see cref="PixelFormat.Rgb24"/> without alpha.
/// </summary>
/// <param name="R">Red.</param>
/// <param name="G">Green.</param>
/// <param name="B">Blue.</param>
/// <param name="A">Alpha (255 = opaque).</param>
public readonly record struct Color(byte R, byte G, byte B, byte A = 255)
{
    /// <summary>Opaque black.</summary>
    public static Color Black => new(0, 0, 0);

    /// <summary>Opaque white.</summary>
    public static Color White => new(255, 255, 255);

    /// <summary>Opaque red.</summary>
    public static Color Red => new(255, 0, 0);

    /// <summary>Opaque green.</summary>
    public static Color Green => new(0, 255, 0);

    /// <summary>Opaque blue.</summary>
    public static Color Blue => new(0, 0, 255);

    /// <summary>Opaque yellow.</summary>
    public static Color Yellow => new(255, 255, 0);

    /// <summary>An opaque gray level.</summary>
    public static Color FromGray(byte value) => new(value, value, value);

    /// <summary>The BT.601 luma, as <see cref="ColorConversion"/> computes it.</summary>
    public byte Luma => ColorConversion.Luma(R, G, B);

    /// <summary>Writes this colour as one pixel of <paramref name="channels"/> (1, 3 or 4) bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteTo(Span<byte> pixel, int channels)
    {
        switch (channels)
        {
            case 1:
                pixel[0] = Luma;
                break;
            case 3:
                pixel[2] = B;
                pixel[1] = G;
                pixel[0] = R;
                break;
            default:
                pixel[3] = A;
                pixel[2] = B;
                pixel[1] = G;
                pixel[0] = R;
                break;
        }
    }

    /// <summary>Fills <paramref name="pixels"/> (whole pixels of <paramref name="channels"/> bytes) with this colour.</summary>
    internal void Fill(Span<byte> pixels, int channels)
    {
        if (channels == 1)
        {
            pixels.Fill(Luma);
            return;
        }

        if (pixels.Length == 0)
        {
            return;
        }

        WriteTo(pixels, channels);
        // Doubling copies: 1, 2, 4, ... pixels.
        for (int done = channels; done < pixels.Length; done *= 2)
        {
            int n = Math.Min(done, pixels.Length - done);
            pixels.Slice(0, n).CopyTo(pixels.Slice(done));
        }
    }
}

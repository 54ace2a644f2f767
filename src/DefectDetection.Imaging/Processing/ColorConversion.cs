using System.Runtime.CompilerServices;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Conversions between <see cref="PixelFormat"/>s and channel swaps. Gray from colour uses the BT.601 weights
/// 0.299, 0.587, 0.114 in 16-bit fixed point, <c>(19595 R + 38470 G + 7471 B + 32768) &gt;&gt; 16</c>, as Pillow
/// does: the exact weighted sum rounded to nearest, off by at most one level (in 0.06% of colours) where it lies within 0.002 of a half.
/// </summary>
public static class ColorConversion
{
    /// <summary>
    /// Converts <paramref name="source"/> to <paramref name="format"/> (a copy when the format is unchanged).
    /// Gray to colour repeats the level (alpha 255); colour to RGBA sets alpha 255. From RGBA, alpha is dropped,
    /// or when <paramref name="background"/> is given each pixel is composited over it:
    /// <c>(c a + bg (255 - a) + 127) / 255</c> in integers.
    /// </summary>
    /// <param name="source">The image or view.</param>
    /// <param name="format">The result's pixel format.</param>
    /// <param name="background">For RGBA sources: the colour shown through transparent pixels; null drops alpha.</param>
    public static Image Convert(ImageView source, PixelFormat format, Color? background = null)
    {
        int dch = format.ChannelCount();
        int sch = source.Channels;
        Image result = Image.CreateUninitialized(source.Width, source.Height, format);
        for (int y = 0; y < source.Height; y++)
        {
            ReadOnlySpan<byte> s = source.GetRow(y);
            Span<byte> d = result.GetRow(y);
            if (sch == dch)
            {
                s.CopyTo(d);
                continue;
            }

            ConvertRow(s, sch, d, dch, background);
        }

        return result;
    }

    /// <summary>Returns a copy with the first and third channels swapped (RGB to BGR, RGBA to BGRA); gray is copied.</summary>
    /// <param name="source">The image or view.</param>
    public static Image SwapRedBlue(ImageView source)
    {
        Image result = source.ToImage();
        SwapRedBlueInPlace(result);
        return result;
    }

    /// <summary>Swaps the first and third channels of every pixel in place; gray images are left unchanged.</summary>
    /// <param name="image">The image to change.</param>
    public static void SwapRedBlueInPlace(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int ch = image.Channels;
        if (ch < 3)
        {
            return;
        }

        Span<byte> p = image.Pixels;
        for (int i = 0; i + 2 < p.Length; i += ch)
        {
            (p[i], p[i + 2]) = (p[i + 2], p[i]);
        }
    }

    /// <summary>BT.601 luma in 16-bit fixed point, rounded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Luma(int r, int g, int b) => (byte)(((r * 19595) + (g * 38470) + (b * 7471) + 32768) >> 16);

    /// <summary>Alpha compositing of one channel: (c a + bg (255 - a) + 127) / 255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Over(int c, int a, int bg) => (byte)(((c * a) + (bg * (255 - a)) + 127) / 255);

    private static void ConvertRow(ReadOnlySpan<byte> s, int sch, Span<byte> d, int dch, Color? background)
    {
        int n = s.Length / sch;
        if (sch == 4 && background is Color bg)
        {
            // Composite first (into the destination when it has 3 or 4 channels), then convert.
            for (int x = 0, i = 0, o = 0; x < n; x++, i += 4, o += dch)
            {
                int a = s[i + 3];
                byte r = Over(s[i], a, bg.R), g = Over(s[i + 1], a, bg.G), b = Over(s[i + 2], a, bg.B);
                if (dch == 1)
                {
                    d[o] = Luma(r, g, b);
                }
                else
                {
                    d[o] = r;
                    d[o + 1] = g;
                    d[o + 2] = b;
                }
            }

            return;
        }

        switch ((sch, dch))
        {
            case (1, 3):
                for (int x = 0, o = 0; x < n; x++, o += 3)
                {
                    byte v = s[x];
                    d[o] = v;
                    d[o + 1] = v;
                    d[o + 2] = v;
                }

                break;
            case (1, 4):
                for (int x = 0, o = 0; x < n; x++, o += 4)
                {
                    byte v = s[x];
                    d[o] = v;
                    d[o + 1] = v;
                    d[o + 2] = v;
                    d[o + 3] = 255;
                }

                break;
            case (3, 1):
            case (4, 1):
                for (int x = 0, i = 0; x < n; x++, i += sch)
                {
                    d[x] = Luma(s[i], s[i + 1], s[i + 2]);
                }

                break;
            case (3, 4):
                for (int x = 0, i = 0, o = 0; x < n; x++, i += 3, o += 4)
                {
                    d[o] = s[i];
                    d[o + 1] = s[i + 1];
                    d[o + 2] = s[i + 2];
                    d[o + 3] = 255;
                }

                break;
            default: // (4, 3)
                for (int x = 0, i = 0, o = 0; x < n; x++, i += 4, o += 3)
                {
                    d[o] = s[i];
                    d[o + 1] = s[i + 1];
                    d[o + 2] = s[i + 2];
                }

                break;
        }
    }
}

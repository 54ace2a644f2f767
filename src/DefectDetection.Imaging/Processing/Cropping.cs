namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Copying crops and padding. A cheap, copy-free crop is <see cref="Image.View(Rectangle)"/>; these return new
/// images and may reach beyond the source, making up the outside pixels by a <see cref="BorderMode"/>.
/// </summary>
public static class Cropping
{
    /// <summary>Copies a rectangle that lies inside <paramref name="source"/>.</summary>
    /// <param name="source">The image or view.</param>
    /// <param name="region">The rectangle, in the coordinates of <paramref name="source"/>.</param>
    public static Image Crop(ImageView source, Rectangle region) => source.Slice(region).ToImage();

    /// <summary>
    /// Copies <paramref name="region"/>, which may extend beyond <paramref name="source"/> (or lie wholly outside
    /// it); the outside pixels come from <paramref name="border"/>.
    /// </summary>
    /// <param name="source">The image or view.</param>
    /// <param name="region">The rectangle in source coordinates; non-empty.</param>
    /// <param name="border">How outside pixels are made. Default: <see cref="BorderMode.Constant"/>.</param>
    /// <param name="fill">The constant colour. Default: opaque black.</param>
    public static Image CropPadded(ImageView source, Rectangle region, BorderMode border = BorderMode.Constant, Color? fill = null)
    {
        if (region.IsEmpty)
        {
            throw new ArgumentOutOfRangeException(nameof(region), $"Region {region} is empty.");
        }

        Border.Check(border);
        Image result = Image.CreateUninitialized(region.Width, region.Height, source.PixelFormat);
        Color color = fill ?? Color.Black;
        for (int y = 0; y < region.Height; y++)
        {
            CopyPaddedRow(source, region, y, border, color, result.GetRow(y));
        }

        return result;
    }

    /// <summary>Writes row <paramref name="y"/> of <paramref name="region"/> (which may leave the source) into <paramref name="dst"/>.</summary>
    internal static void CopyPaddedRow(ImageView source, Rectangle region, int y, BorderMode border, Color color, Span<byte> dst)
    {
        int ch = source.Channels, sw = source.Width;
        dst = dst.Slice(0, region.Width * ch);
        int sy = Border.Map(region.Y + y, source.Height, border);
        if (sy < 0)
        {
            color.Fill(dst, ch);
            return;
        }

        // Columns [innerL, innerR) of the region map straight onto source columns.
        int innerL = (int)Math.Clamp(-(long)region.X, 0, region.Width);
        int innerR = (int)Math.Clamp((long)sw - region.X, innerL, region.Width);
        Span<byte> src = source.GetRow(sy);
        if (innerR > innerL)
        {
            src.Slice((region.X + innerL) * ch, (innerR - innerL) * ch).CopyTo(dst.Slice(innerL * ch));
        }

        FillOutside(src, dst, 0, innerL, region.X, sw, ch, border, color);
        FillOutside(src, dst, innerR, region.Width, region.X, sw, ch, border, color);
    }

    /// <summary>
    /// Cuts <paramref name="box"/> grown by <paramref name="margin"/> pixels on every side, at full resolution,
    /// padding by <paramref name="border"/> where the grown box leaves the image. The result is always
    /// (box.Width + 2 margin) x (box.Height + 2 margin), with the box at (margin, margin).
    /// </summary>
    /// <param name="source">The image or view.</param>
    /// <param name="box">The region of interest, in source coordinates.</param>
    /// <param name="margin">Context pixels on each side (0 or more).</param>
    /// <param name="border">How outside pixels are made. Default: <see cref="BorderMode.Replicate"/>.</param>
    /// <param name="fill">The constant colour for <see cref="BorderMode.Constant"/>. Default: opaque black.</param>
    public static Image CropWithContext(ImageView source, Rectangle box, int margin, BorderMode border = BorderMode.Replicate, Color? fill = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(margin);
        return CropPadded(source, box.Inflate(margin), border, fill);
    }

    /// <summary>Adds the given margins around <paramref name="source"/>.</summary>
    /// <param name="source">The image or view.</param>
    /// <param name="left">Columns added on the left (0 or more).</param>
    /// <param name="top">Rows added on top.</param>
    /// <param name="right">Columns added on the right.</param>
    /// <param name="bottom">Rows added below.</param>
    /// <param name="border">How the new pixels are made. Default: <see cref="BorderMode.Constant"/>.</param>
    /// <param name="fill">The constant colour. Default: opaque black.</param>
    public static Image Pad(ImageView source, int left, int top, int right, int bottom, BorderMode border = BorderMode.Constant, Color? fill = null)
    {
        if (left < 0 || top < 0 || right < 0 || bottom < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(left), "Margins must not be negative.");
        }

        return CropPadded(source, new Rectangle(-left, -top, checked(source.Width + left + right), checked(source.Height + top + bottom)), border, fill);
    }

    /// <summary>
    /// Pads <paramref name="source"/> to <paramref name="width"/> x <paramref name="height"/> (each at least the
    /// source size) without scaling, placing it by <paramref name="alignment"/>.
    /// </summary>
    /// <param name="source">The image or view.</param>
    /// <param name="width">Result width.</param>
    /// <param name="height">Result height.</param>
    /// <param name="alignment">Where the source sits. Default: <see cref="LetterboxAlignment.Center"/>.</param>
    /// <param name="border">How the new pixels are made. Default: <see cref="BorderMode.Constant"/>.</param>
    /// <param name="fill">The constant colour. Default: opaque black.</param>
    public static Image PadTo(ImageView source, int width, int height, LetterboxAlignment alignment = LetterboxAlignment.Center,
        BorderMode border = BorderMode.Constant, Color? fill = null)
    {
        if (width < source.Width || height < source.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Cannot pad {source.Width}x{source.Height} to a smaller {width}x{height}.");
        }

        int left = alignment == LetterboxAlignment.Center ? (width - source.Width) / 2 : 0;
        int top = alignment == LetterboxAlignment.Center ? (height - source.Height) / 2 : 0;
        return Pad(source, left, top, width - source.Width - left, height - source.Height - top, border, fill);
    }

    private static void FillOutside(Span<byte> src, Span<byte> dst, int from, int to, int regionX, int sw, int ch, BorderMode border, Color color)
    {
        if (to <= from)
        {
            return;
        }

        if (border == BorderMode.Constant)
        {
            color.Fill(dst.Slice(from * ch, (to - from) * ch), ch);
            return;
        }

        for (int x = from; x < to; x++)
        {
            int sx = Border.Map(regionX + x, sw, border);
            src.Slice(sx * ch, ch).CopyTo(dst.Slice(x * ch, ch));
        }
    }
}

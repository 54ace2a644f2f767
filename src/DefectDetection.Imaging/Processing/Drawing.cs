namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Draws on an image in place: rectangles, lines and text in a built-in 5x7 pixel font (printable ASCII; other
/// characters show as '?'). Everything is clipped to the image. Colours are written opaque (on RGBA images
/// <see cref="Color.A"/> is stored); on gray images their luma is written.
/// </summary>
public static class Drawing
{
    /// <summary>Fills a rectangle.</summary>
    /// <param name="image">The image to draw on.</param>
    /// <param name="rectangle">The area; parts outside the image are ignored.</param>
    /// <param name="color">The colour.</param>
    public static void FillRectangle(Image image, Rectangle rectangle, Color color)
    {
        ArgumentNullException.ThrowIfNull(image);
        Rectangle r = Rectangle.Intersect(rectangle, image.Bounds);
        if (r.IsEmpty)
        {
            return;
        }

        int ch = image.Channels;
        Span<byte> first = image.GetRow(r.Y).Slice(r.X * ch, r.Width * ch);
        color.Fill(first, ch);
        for (int y = r.Y + 1; y < r.Bottom; y++)
        {
            first.CopyTo(image.GetRow(y).Slice(r.X * ch));
        }
    }

    /// <summary>Draws the outline of a rectangle; the lines grow inwards from its edges.</summary>
    /// <param name="image">The image to draw on.</param>
    /// <param name="rectangle">The outer edges of the outline.</param>
    /// <param name="color">The colour.</param>
    /// <param name="thickness">Line width in pixels (1 or more). Default: 1.</param>
    public static void DrawRectangle(Image image, Rectangle rectangle, Color color, int thickness = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(thickness, 1);
        if (rectangle.IsEmpty)
        {
            return;
        }

        int t = Math.Min(thickness, Math.Min((rectangle.Width + 1) / 2, (rectangle.Height + 1) / 2));
        FillRectangle(image, new Rectangle(rectangle.X, rectangle.Y, rectangle.Width, t), color);
        FillRectangle(image, new Rectangle(rectangle.X, rectangle.Bottom - t, rectangle.Width, t), color);
        FillRectangle(image, new Rectangle(rectangle.X, rectangle.Y + t, t, rectangle.Height - (2 * t)), color);
        FillRectangle(image, new Rectangle(rectangle.Right - t, rectangle.Y + t, t, rectangle.Height - (2 * t)), color);
    }

    /// <summary>
    /// Draws a straight line between two pixel centres (both included), with Bresenham's algorithm; thicker lines
    /// stamp a square of <paramref name="thickness"/> pixels at every step. Lines reaching far outside the image
    /// are clipped to it first.
    /// </summary>
    /// <param name="image">The image to draw on.</param>
    /// <param name="x0">Start column.</param>
    /// <param name="y0">Start row.</param>
    /// <param name="x1">End column.</param>
    /// <param name="y1">End row.</param>
    /// <param name="color">The colour.</param>
    /// <param name="thickness">Line width in pixels (1 or more). Default: 1.</param>
    public static void DrawLine(Image image, int x0, int y0, int x1, int y1, Color color, int thickness = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(thickness, 1);
        int ch = image.Channels;
        Span<byte> pixel = stackalloc byte[4];
        color.WriteTo(pixel, ch);
        pixel = pixel.Slice(0, ch);
        int half = (thickness - 1) / 2;
        ClipLongLine(image, thickness, ref x0, ref y0, ref x1, ref y1);
        long dx = Math.Abs((long)x1 - x0), dy = -Math.Abs((long)y1 - y0);
        int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        long err = dx + dy;
        long x = x0, y = y0;

        // Steps beyond the image (long lines) are cheap; clip per stamp.
        long steps = Math.Max(dx, -dy);
        for (long i = 0; i <= steps; i++)
        {
            if (thickness == 1)
            {
                if ((ulong)x < (ulong)image.Width && (ulong)y < (ulong)image.Height)
                {
                    pixel.CopyTo(image.GetRow((int)y).Slice((int)x * ch));
                }
            }
            else if (x >= -thickness && y >= -thickness && x <= image.Width + thickness && y <= image.Height + thickness)
            {
                FillRectangle(image, new Rectangle((int)x - half, (int)y - half, thickness, thickness), color);
            }

            long e2 = 2 * err;
            if (e2 >= dy)
            {
                err += dy;
                x += sx;
            }

            if (e2 <= dx)
            {
                err += dx;
                y += sy;
            }
        }
    }

    // Lines much longer than the image are first clipped (Liang-Barsky) to the image grown by the thickness, so
    // that the pixel walk stays short; the clipped end points are rounded to whole pixels.
    private static void ClipLongLine(Image image, int thickness, ref int x0, ref int y0, ref int x1, ref int y1)
    {
        long limit = 4L * (image.Width + image.Height + thickness);
        if (Math.Abs((long)x1 - x0) + Math.Abs((long)y1 - y0) <= limit)
        {
            return;
        }

        double xmin = -thickness, ymin = -thickness, xmax = image.Width + thickness, ymax = image.Height + thickness;
        double dx = (double)x1 - x0, dy = (double)y1 - y0, t0 = 0, t1 = 1;
        ReadOnlySpan<double> p = [-dx, dx, -dy, dy];
        ReadOnlySpan<double> q = [x0 - xmin, xmax - x0, y0 - ymin, ymax - y0];
        for (int i = 0; i < 4; i++)
        {
            if (p[i] == 0)
            {
                if (q[i] < 0)
                {
                    x1 = x0 = -thickness - 1; // wholly outside: a one-pixel walk off the image
                    y1 = y0 = -thickness - 1;
                    return;
                }

                continue;
            }

            double t = q[i] / p[i];
            if (p[i] < 0)
            {
                t0 = Math.Max(t0, t);
            }
            else
            {
                t1 = Math.Min(t1, t);
            }
        }

        if (t0 > t1)
        {
            x1 = x0 = -thickness - 1;
            y1 = y0 = -thickness - 1;
            return;
        }

        double ax = x0 + (t0 * dx), ay = y0 + (t0 * dy), bx = x0 + (t1 * dx), by = y0 + (t1 * dy);
        x0 = (int)Math.Round(ax);
        y0 = (int)Math.Round(ay);
        x1 = (int)Math.Round(bx);
        y1 = (int)Math.Round(by);
    }

    /// <summary>The size in pixels of <paramref name="text"/> drawn by <see cref="DrawText"/> (lines split at '\n').</summary>
    /// <param name="text">The text.</param>
    /// <param name="scale">Pixels per font pixel (1 or more). Default: 1.</param>
    /// <returns>Width and height; 0 x 0 for empty text.</returns>
    public static (int Width, int Height) MeasureText(string text, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        if (text.Length == 0)
        {
            return (0, 0);
        }

        int lines = 1, longest = 0, current = 0;
        foreach (char c in text)
        {
            if (c == '\n')
            {
                lines++;
                current = 0;
                continue;
            }

            longest = Math.Max(longest, ++current);
        }

        int width = longest == 0 ? 0 : ((longest * BitmapFont.CellWidth) - 1) * scale;
        int height = ((lines * BitmapFont.CellHeight) - 1) * scale;
        return (width, height);
    }

    /// <summary>Draws text with its top-left corner at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    /// <param name="image">The image to draw on.</param>
    /// <param name="x">Left edge.</param>
    /// <param name="y">Top edge.</param>
    /// <param name="text">Printable ASCII; '\n' starts a new line.</param>
    /// <param name="color">The colour of the glyph pixels (the background is left as is).</param>
    /// <param name="scale">Pixels per font pixel (1 or more). Default: 1.</param>
    public static void DrawText(Image image, int x, int y, string text, Color color, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int penX = x, penY = y;
        foreach (char c in text)
        {
            if (c == '\n')
            {
                penX = x;
                penY += BitmapFont.CellHeight * scale;
                continue;
            }

            if (penX < image.Width && penY < image.Height && penX + (BitmapFont.CellWidth * scale) > 0 && penY + (BitmapFont.CellHeight * scale) > 0)
            {
                ReadOnlySpan<byte> glyph = BitmapFont.Glyph(c);
                for (int gx = 0; gx < BitmapFont.GlyphWidth; gx++)
                {
                    for (int gy = 0; gy < BitmapFont.GlyphHeight; gy++)
                    {
                        if (((glyph[gx] >> gy) & 1) != 0)
                        {
                            FillRectangle(image, new Rectangle(penX + (gx * scale), penY + (gy * scale), scale, scale), color);
                        }
                    }
                }
            }

            penX += BitmapFont.CellWidth * scale;
        }
    }

    /// <summary>
    /// Draws a detection: the box outline and, on a filled background of the box colour, the label text (black or
    /// white, whichever contrasts) just above the box, or inside its top edge when there is no room above.
    /// </summary>
    /// <param name="image">The image to draw on.</param>
    /// <param name="box">The box.</param>
    /// <param name="label">The label; empty draws the box only.</param>
    /// <param name="color">Box and label background colour.</param>
    /// <param name="thickness">Box line width. Default: 2.</param>
    /// <param name="textScale">Pixels per font pixel. Default: 1.</param>
    public static void DrawLabeledBox(Image image, Rectangle box, string label, Color color, int thickness = 2, int textScale = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(label);
        DrawRectangle(image, box, color, thickness);
        if (label.Length == 0)
        {
            return;
        }

        (int tw, int th) = MeasureText(label, textScale);
        int pad = textScale;
        int bw = tw + (2 * pad), bh = th + (2 * pad);
        int bx = Math.Clamp(box.X, 0, Math.Max(0, image.Width - bw));
        int by = box.Y - bh >= 0 ? box.Y - bh : Math.Max(0, box.Y);
        FillRectangle(image, new Rectangle(bx, by, bw, bh), color);
        Color ink = color.Luma >= 128 ? Color.Black : Color.White;
        DrawText(image, bx + pad, by + pad, label, ink, textScale);
    }
}

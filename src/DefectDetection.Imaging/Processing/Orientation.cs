using System.Runtime.CompilerServices;

namespace DefectDetection.Imaging.Processing;

/// <summary>Flips, 90-degree rotations and EXIF orientation. Each returns a new image; the source is unchanged.</summary>
public static class Orientation
{
    /// <summary>Mirrors left to right.</summary>
    public static Image FlipHorizontal(ImageView source) => Remap(source, swapAxes: false, flipX: true, flipY: false);

    /// <summary>Mirrors top to bottom.</summary>
    public static Image FlipVertical(ImageView source) => Remap(source, swapAxes: false, flipX: false, flipY: true);

    /// <summary>Rotates 90 degrees clockwise.</summary>
    public static Image Rotate90(ImageView source) => Remap(source, swapAxes: true, flipX: true, flipY: false);

    /// <summary>Rotates 180 degrees.</summary>
    public static Image Rotate180(ImageView source) => Remap(source, swapAxes: false, flipX: true, flipY: true);

    /// <summary>Rotates 90 degrees counter-clockwise (270 clockwise).</summary>
    public static Image Rotate270(ImageView source) => Remap(source, swapAxes: true, flipX: false, flipY: true);

    /// <summary>Mirrors along the main diagonal (rows become columns).</summary>
    public static Image Transpose(ImageView source) => Remap(source, swapAxes: true, flipX: false, flipY: false);

    /// <summary>Mirrors along the anti-diagonal.</summary>
    public static Image Transverse(ImageView source) => Remap(source, swapAxes: true, flipX: true, flipY: true);

    /// <summary>
    /// Turns an image stored with EXIF orientation <paramref name="orientation"/> upright. Returns a copy for
    /// orientation 1 or unknown.
    /// </summary>
    public static Image ApplyExif(ImageView source, ExifOrientation orientation) => orientation switch
    {
        ExifOrientation.TopRight => FlipHorizontal(source),
        ExifOrientation.BottomRight => Rotate180(source),
        ExifOrientation.BottomLeft => FlipVertical(source),
        ExifOrientation.LeftTop => Transpose(source),
        ExifOrientation.RightTop => Rotate90(source),
        ExifOrientation.RightBottom => Transverse(source),
        ExifOrientation.LeftBottom => Rotate270(source),
        _ => source.ToImage(),
    };

    // Destination pixel (dx, dy) takes source pixel (sx, sy). Without swap: sx = flipX ? W-1-dx : dx, etc.
    // With swap the destination is H x W and sx comes from dy, sy from dx (before flips in destination space).
    private static Image Remap(ImageView source, bool swapAxes, bool flipX, bool flipY)
    {
        int sw = source.Width, sh = source.Height, ch = source.Channels;
        int dw = swapAxes ? sh : sw, dh = swapAxes ? sw : sh;
        Image result = Image.CreateUninitialized(dw, dh, source.PixelFormat);
        if (!swapAxes)
        {
            for (int dy = 0; dy < dh; dy++)
            {
                Span<byte> src = source.GetRow(flipY ? sh - 1 - dy : dy);
                Span<byte> dst = result.GetRow(dy);
                if (!flipX)
                {
                    src.CopyTo(dst);
                    continue;
                }

                for (int dx = 0, sx = (sw - 1) * ch; dx < dw * ch; dx += ch, sx -= ch)
                {
                    src.Slice(sx, ch).CopyTo(dst.Slice(dx, ch));
                }
            }

            return result;
        }

        // Transposing family: destination row dy is source column (flipY ? sw-1-dy : dy), read top to bottom
        // (or bottom to top when flipX). Walked in 32x32 tiles so that both sides stay in cache.
        Image image = source.Source;
        byte[] sbuf = image.Buffer;
        int sStride = image.Stride;
        int sBase = (source.Region.Y * sStride) + (source.Region.X * ch);
        byte[] dbuf = result.Buffer;
        int dStride = result.Stride;
        const int Tile = 32;
        for (int ty = 0; ty < dh; ty += Tile)
        {
            int tyEnd = Math.Min(dh, ty + Tile);
            for (int tx = 0; tx < dw; tx += Tile)
            {
                int txEnd = Math.Min(dw, tx + Tile);
                for (int dy = ty; dy < tyEnd; dy++)
                {
                    int sx = flipY ? sw - 1 - dy : dy;
                    int colBase = sBase + (sx * ch);
                    int d = (dy * dStride) + (tx * ch);
                    int step = flipX ? -sStride : sStride;
                    int si = colBase + ((flipX ? sh - 1 - tx : tx) * sStride);
                    switch (ch)
                    {
                        case 1:
                            for (int dx = tx; dx < txEnd; dx++, d++, si += step)
                            {
                                dbuf[d] = sbuf[si];
                            }

                            break;
                        case 3:
                            for (int dx = tx; dx < txEnd; dx++, d += 3, si += step)
                            {
                                dbuf[d] = sbuf[si];
                                dbuf[d + 1] = sbuf[si + 1];
                                dbuf[d + 2] = sbuf[si + 2];
                            }

                            break;
                        default:
                            for (int dx = tx; dx < txEnd; dx++, d += 4, si += step)
                            {
                                Unsafe.WriteUnaligned(ref dbuf[d], Unsafe.ReadUnaligned<uint>(ref sbuf[si]));
                            }

                            break;
                    }
                }
            }
        }

        return result;
    }
}

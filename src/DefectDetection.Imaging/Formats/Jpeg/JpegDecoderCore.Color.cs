using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// From samples to pixels, one row of MCUs at a time: the IDCT (JpegDecoderCore.Idct.cs) writes into a ring of
/// three MCU rows of samples per component (so that the vertical "fancy" upsampling sees the rows above and
/// below), and each finished MCU row is upsampled and colour-converted into the output image.
/// </summary>
internal sealed unsafe partial class JpegDecoderCore
{
    private short[]? _colsum;

    private enum Upsampling
    {
        None,
        H2V1Fancy,
        H1V2Fancy,
        H2V2Fancy,
        Replicate,
        Nearest,
    }

    private void SetupOutput(bool streaming)
    {
        AllocateCoefficients(streaming);
        int fullWidth = (_mcusX * _hmax * 8) + 64;
        int maxStride = 0;
        foreach (Component c in _components)
        {
            c.PlaneStride = (c.BlocksPerLine * 8) + 32;
            c.RingRows = 3 * c.V * 8;
            c.Plane = PixelBufferPool.Rent<byte>(c.PlaneStride * c.RingRows, clear: true);
            c.Mode = ChooseUpsampling(c);
            if (c.Mode != Upsampling.None)
            {
                c.Upsampled = PixelBufferPool.Rent<byte>(fullWidth, clear: true);
            }

            maxStride = Math.Max(maxStride, c.PlaneStride);
        }

        _colsum = PixelBufferPool.Rent<short>(maxStride + 32, clear: true);
    }

    private Upsampling ChooseUpsampling(Component c)
    {
        if (c.H == _hmax && c.V == _vmax)
        {
            return Upsampling.None;
        }

        if (c.H * 2 == _hmax && c.V == _vmax && c.DownsampledWidth > 2)
        {
            return Upsampling.H2V1Fancy;
        }

        if (c.H == _hmax && c.V * 2 == _vmax)
        {
            return Upsampling.H1V2Fancy;
        }

        if (c.H * 2 == _hmax && c.V * 2 == _vmax && c.DownsampledWidth > 2)
        {
            return Upsampling.H2V2Fancy;
        }

        return _hmax % c.H == 0 && _vmax % c.V == 0 ? Upsampling.Replicate : Upsampling.Nearest;
    }

    private byte* SampleRow(Component c, byte* plane, int r)
    {
        if (r < 0)
        {
            r = 0;
        }
        else if (r >= c.DownsampledHeight)
        {
            r = c.DownsampledHeight - 1;
        }

        return plane + ((r % c.RingRows) * c.PlaneStride);
    }

    /// <summary>Upsamples, converts and writes the image rows of MCU row <paramref name="row"/>.</summary>
    private void EmitMcuRow(Image image, int row)
    {
        int y0 = row * _vmax * 8;
        int y1 = Math.Min(_height, y0 + (_vmax * 8));
        int n = _components.Length;
        Component c0 = _components[0];
        Component? c1 = n > 1 ? _components[1] : null, c2 = n > 2 ? _components[2] : null, c3 = n > 3 ? _components[3] : null;
        fixed (byte* outBase = image.Buffer)
        fixed (short* colsum = _colsum)
        fixed (byte* p0 = c0.Plane, u0 = c0.Upsampled)
        fixed (byte* p1 = c1?.Plane, u1 = c1?.Upsampled)
        fixed (byte* p2 = c2?.Plane, u2 = c2?.Upsampled)
        fixed (byte* p3 = c3?.Plane, u3 = c3?.Upsampled)
        {
            for (int y = y0; y < y1; y++)
            {
                byte* dst = outBase + ((long)y * image.Stride);
                byte* r0 = ComponentRow(c0, p0, u0, y, colsum);
                if (n == 1)
                {
                    Buffer.MemoryCopy(r0, dst, _width, _width);
                    continue;
                }

                byte* r1 = ComponentRow(c1!, p1, u1, y, colsum);
                byte* r2 = ComponentRow(c2!, p2, u2, y, colsum);
                switch (_colorSpace)
                {
                    case ColorSpace.YCbCr:
                        JpegColor.YCbCrToRgb(r0, r1, r2, dst, _width);
                        break;
                    case ColorSpace.Rgb:
                        JpegColor.PlanarToRgb(r0, r1, r2, dst, _width);
                        break;
                    case ColorSpace.Cmyk:
                        JpegColor.CmykToRgb(r0, r1, r2, ComponentRow(c3!, p3, u3, y, colsum), dst, _width);
                        break;
                    default:
                        JpegColor.YcckToRgb(r0, r1, r2, ComponentRow(c3!, p3, u3, y, colsum), dst, _width);
                        break;
                }
            }
        }
    }

    /// <summary>The samples of component <paramref name="c"/> for image row <paramref name="y"/>, upsampled to full width.</summary>
    private byte* ComponentRow(Component c, byte* plane, byte* upsampled, int y, short* colsum)
    {
        switch (c.Mode)
        {
            case Upsampling.None:
                return SampleRow(c, plane, y);
            case Upsampling.H2V1Fancy:
                JpegUpsampler.H2V1Fancy(SampleRow(c, plane, y), upsampled, c.DownsampledWidth);
                return upsampled;
            case Upsampling.H1V2Fancy:
            {
                int cy = y >> 1;
                bool upper = (y & 1) == 0;
                JpegUpsampler.V2Fancy(SampleRow(c, plane, cy), SampleRow(c, plane, upper ? cy - 1 : cy + 1), upsampled, _width, upper ? 1 : 2);
                return upsampled;
            }

            case Upsampling.H2V2Fancy:
            {
                int cy = y >> 1;
                bool upper = (y & 1) == 0;
                JpegUpsampler.H2V2Fancy(SampleRow(c, plane, cy), SampleRow(c, plane, upper ? cy - 1 : cy + 1), colsum, upsampled, c.DownsampledWidth);
                return upsampled;
            }

            case Upsampling.Replicate:
            {
                int hx = _hmax / c.H, vy = _vmax / c.V;
                byte* src = SampleRow(c, plane, y / vy);
                JpegUpsampler.Replicate(src, upsampled, _width, hx);
                return upsampled;
            }

            default:
            {
                byte* src = SampleRow(c, plane, (int)((long)y * c.V / _vmax));
                for (int x = 0; x < _width; x++)
                {
                    upsampled[x] = src[(int)((long)x * c.H / _hmax)];
                }

                return upsampled;
            }
        }
    }
}

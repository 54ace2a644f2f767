using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>Conversion of unfiltered rows to the output pixel format.</summary>
internal sealed partial class PngDecoderCore
{
    /// <summary>
    /// Writes <paramref name="count"/> pixels of the unfiltered row <paramref name="raw"/> into
    /// <paramref name="dst"/> at columns <paramref name="x0"/>, <paramref name="x0"/> + <paramref name="dx"/>, ...
    /// Samples of 1, 2 and 4 bits are scaled to 8 bits exactly (v x 255 / (2^depth - 1)); 16-bit samples keep their
    /// high byte. tRNS colours are compared at the file's full bit depth.
    /// </summary>
    private void ConvertRow(ReadOnlySpan<byte> raw, Span<byte> dst, int x0, int dx, int count)
    {
        int depth = _header.BitDepth;
        switch (_header.ColorType)
        {
            case PngColorType.Grayscale:
                ConvertGray(raw, dst, x0, dx, count, depth);
                break;
            case PngColorType.Palette:
                ConvertPalette(raw, dst, x0, dx, count, depth);
                break;
            case PngColorType.Rgb:
                ConvertRgb(raw, dst, x0, dx, count, depth);
                break;
            case PngColorType.GrayscaleAlpha:
                for (int i = 0, x = x0; i < count; i++, x += dx)
                {
                    byte g = depth == 8 ? raw[2 * i] : raw[4 * i];
                    byte a = depth == 8 ? raw[(2 * i) + 1] : raw[(4 * i) + 2];
                    int o = 4 * x;
                    dst[o] = g;
                    dst[o + 1] = g;
                    dst[o + 2] = g;
                    dst[o + 3] = a;
                }

                break;
            default:
                if (depth == 8)
                {
                    if (dx == 1)
                    {
                        raw[..(4 * count)].CopyTo(dst[(4 * x0)..]);
                        break;
                    }

                    for (int i = 0, x = x0; i < count; i++, x += dx)
                    {
                        raw.Slice(4 * i, 4).CopyTo(dst.Slice(4 * x, 4));
                    }

                    break;
                }

                for (int i = 0, x = x0; i < count; i++, x += dx)
                {
                    int s = 8 * i;
                    int o = 4 * x;
                    dst[o] = raw[s];
                    dst[o + 1] = raw[s + 2];
                    dst[o + 2] = raw[s + 4];
                    dst[o + 3] = raw[s + 6];
                }

                break;
        }
    }

    private void ConvertGray(ReadOnlySpan<byte> raw, Span<byte> dst, int x0, int dx, int count, int depth)
    {
        if (!_hasTrns)
        {
            if (depth == 8)
            {
                if (dx == 1)
                {
                    raw[..count].CopyTo(dst[x0..]);
                    return;
                }

                for (int i = 0, x = x0; i < count; i++, x += dx)
                {
                    dst[x] = raw[i];
                }

                return;
            }

            if (depth == 16)
            {
                for (int i = 0, x = x0; i < count; i++, x += dx)
                {
                    dst[x] = raw[2 * i];
                }

                return;
            }

            int scale = 255 / ((1 << depth) - 1);
            for (int i = 0, x = x0; i < count; i++, x += dx)
            {
                dst[x] = (byte)(SubByteSample(raw, i, depth) * scale);
            }

            return;
        }

        for (int i = 0, x = x0; i < count; i++, x += dx)
        {
            int v = depth switch
            {
                16 => BinaryPrimitives.ReadUInt16BigEndian(raw[(2 * i)..]),
                8 => raw[i],
                _ => SubByteSample(raw, i, depth),
            };
            byte g = depth switch
            {
                16 => (byte)(v >> 8),
                8 => (byte)v,
                _ => (byte)(v * (255 / ((1 << depth) - 1))),
            };
            int o = 4 * x;
            dst[o] = g;
            dst[o + 1] = g;
            dst[o + 2] = g;
            dst[o + 3] = v == _trnsR ? (byte)0 : (byte)255;
        }
    }

    private void ConvertRgb(ReadOnlySpan<byte> raw, Span<byte> dst, int x0, int dx, int count, int depth)
    {
        if (!_hasTrns)
        {
            if (depth == 8 && dx == 1)
            {
                raw[..(3 * count)].CopyTo(dst[(3 * x0)..]);
                return;
            }

            int sampleBytes = depth / 8;
            for (int i = 0, x = x0; i < count; i++, x += dx)
            {
                int s = 3 * sampleBytes * i;
                int o = 3 * x;
                dst[o] = raw[s];
                dst[o + 1] = raw[s + sampleBytes];
                dst[o + 2] = raw[s + (2 * sampleBytes)];
            }

            return;
        }

        for (int i = 0, x = x0; i < count; i++, x += dx)
        {
            int r, g, b;
            byte r8, g8, b8;
            if (depth == 8)
            {
                r8 = raw[3 * i];
                g8 = raw[(3 * i) + 1];
                b8 = raw[(3 * i) + 2];
                (r, g, b) = (r8, g8, b8);
            }
            else
            {
                int s = 6 * i;
                r = BinaryPrimitives.ReadUInt16BigEndian(raw[s..]);
                g = BinaryPrimitives.ReadUInt16BigEndian(raw[(s + 2)..]);
                b = BinaryPrimitives.ReadUInt16BigEndian(raw[(s + 4)..]);
                (r8, g8, b8) = ((byte)(r >> 8), (byte)(g >> 8), (byte)(b >> 8));
            }

            int o = 4 * x;
            dst[o] = r8;
            dst[o + 1] = g8;
            dst[o + 2] = b8;
            dst[o + 3] = r == _trnsR && g == _trnsG && b == _trnsB ? (byte)0 : (byte)255;
        }
    }

    private void ConvertPalette(ReadOnlySpan<byte> raw, Span<byte> dst, int x0, int dx, int count, int depth)
    {
        uint[] palette = _palette!;
        bool alpha = _hasTrns;
        for (int i = 0, x = x0; i < count; i++, x += dx)
        {
            int index = depth == 8 ? raw[i] : SubByteSample(raw, i, depth);
            uint c = palette[index];
            if (alpha)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(dst[(4 * x)..], c);
            }
            else
            {
                int o = 3 * x;
                dst[o] = (byte)c;
                dst[o + 1] = (byte)(c >> 8);
                dst[o + 2] = (byte)(c >> 16);
            }
        }
    }

    /// <summary>Sample <paramref name="i"/> of a row packed at 1, 2 or 4 bits per sample, most significant bits first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SubByteSample(ReadOnlySpan<byte> raw, int i, int depth)
    {
        int bit = i * depth;
        return (raw[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    }
}

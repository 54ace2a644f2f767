using System.Diagnostics.CodeAnalysis;

namespace DefectDetection.Imaging.Formats.Pnm;

/// <summary>Decodes one PGM/PPM image; created per call by <see cref="PnmDecoder"/>.</summary>
internal sealed class PnmDecoderCore
{
    private readonly DecoderOptions _options;
    private char _kind;
    private int _width;
    private int _height;
    private int _maxval;
    private int _pos;

    public PnmDecoderCore(DecoderOptions options) => _options = options;

    private bool Plain => _kind is '2' or '3';

    private int Channels => _kind is '2' or '5' ? 1 : 3;

    public ImageInfo Identify(ReadOnlySpan<byte> data)
    {
        ReadHeader(data);
        PixelFormat format = Channels == 1 ? PixelFormat.Gray8 : PixelFormat.Rgb24;
        string details = $"P{_kind} {(Plain ? "plain" : "raw")} {(Channels == 1 ? "PGM" : "PPM")}, maxval {_maxval}";
        return new ImageInfo(ImageFormat.Pnm, _width, _height, Channels, _maxval > 255 ? 16 : 8, format) { Details = details };
    }

    public Image Decode(ReadOnlySpan<byte> data)
    {
        ReadHeader(data);
        PixelFormat format = Channels == 1 ? PixelFormat.Gray8 : PixelFormat.Rgb24;
        _options.CheckDimensions(ImageFormat.Pnm, _width, _height, Channels, 3);
        long samples = (long)_width * _height * Channels;
        int sampleBytes = _maxval > 255 ? 2 : 1;
        if (!Plain && data.Length - _pos < samples * sampleBytes)
        {
            ThrowInvalid(data.Length, $"the raster needs {samples * sampleBytes:N0} bytes from offset {_pos}, but only {data.Length - _pos:N0} remain (truncated file)");
        }

        if (Plain && data.Length - _pos < (2 * samples) - 1)
        {
            // Every plain sample takes at least one digit and one separator: reject short files before allocating.
            ThrowInvalid(data.Length, $"the plain raster of {samples:N0} samples cannot fit in the remaining {data.Length - _pos:N0} bytes (truncated file)");
        }

        Image image = Image.CreateUninitialized(_width, _height, format);
        try
        {
            Span<byte> pixels = image.Pixels;
            if (Plain)
            {
                for (int i = 0; i < pixels.Length; i++)
                {
                    pixels[i] = Scale(ReadNumber(data, "sample"));
                }
            }
            else if (sampleBytes == 1)
            {
                ReadOnlySpan<byte> raster = data.Slice(_pos, pixels.Length);
                if (_maxval == 255)
                {
                    raster.CopyTo(pixels);
                }
                else
                {
                    for (int i = 0; i < pixels.Length; i++)
                    {
                        pixels[i] = Scale(CheckSample(raster[i], _pos + i));
                    }
                }
            }
            else
            {
                ReadOnlySpan<byte> raster = data.Slice(_pos, 2 * pixels.Length);
                for (int i = 0; i < pixels.Length; i++)
                {
                    pixels[i] = Scale(CheckSample((raster[2 * i] << 8) | raster[(2 * i) + 1], _pos + (2 * i)));
                }
            }

            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    internal static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private byte Scale(int v) => _maxval == 255 ? (byte)v : (byte)((((long)v * 255) + (_maxval / 2)) / _maxval);

    private int CheckSample(int v, long offset)
    {
        if (v > _maxval)
        {
            ThrowInvalid(offset, $"sample {v} exceeds maxval {_maxval}");
        }

        return v;
    }

    private void ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3 || data[0] != (byte)'P' || data[1] is not ((byte)'2' or (byte)'3' or (byte)'5' or (byte)'6'))
        {
            ThrowInvalid(0, data.Length >= 2 && data[0] == (byte)'P' && data[1] is (byte)'1' or (byte)'4' or (byte)'7'
                ? $"Netpbm format P{(char)data[1]} is not supported (only P2, P3, P5, P6)"
                : "missing PGM/PPM signature (P2, P3, P5 or P6)");
        }

        _kind = (char)data[1];
        _pos = 2;
        if (!IsWhitespace(data[2]) && data[2] != (byte)'#')
        {
            ThrowInvalid(2, "expected whitespace after the magic number");
        }

        _width = ReadNumber(data, "width");
        _height = ReadNumber(data, "height");
        _maxval = ReadNumber(data, "maxval");
        if (_width <= 0 || _height <= 0)
        {
            ThrowInvalid(3, $"invalid dimensions {_width}x{_height}");
        }

        if (_maxval is < 1 or > 65535)
        {
            ThrowInvalid(_pos, $"maxval {_maxval} is outside 1..65535");
        }

        _options.CheckDimensions(ImageFormat.Pnm, _width, _height, Channels, 3);
        if (!Plain)
        {
            // Exactly one whitespace byte separates maxval from a raw raster.
            if (_pos >= data.Length || !IsWhitespace(data[_pos]))
            {
                ThrowInvalid(_pos, "expected a single whitespace byte before the raster");
            }

            _pos++;
        }
    }

    /// <summary>Skips whitespace and comments, then reads a decimal number; <see cref="_pos"/> ends just after it.</summary>
    private int ReadNumber(ReadOnlySpan<byte> data, string what)
    {
        int pos = _pos;
        while (true)
        {
            if (pos >= data.Length)
            {
                ThrowInvalid(pos, $"the data ends before the {what} (truncated file)");
            }

            byte b = data[pos];
            if (IsWhitespace(b))
            {
                pos++;
            }
            else if (b == (byte)'#')
            {
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r')
                {
                    pos++;
                }
            }
            else
            {
                break;
            }
        }

        int start = pos;
        long value = 0;
        while (pos < data.Length && data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            value = (value * 10) + (data[pos] - '0');
            if (value > int.MaxValue)
            {
                ThrowInvalid(start, $"the {what} is too large");
            }

            pos++;
        }

        if (pos == start)
        {
            ThrowInvalid(pos, $"expected a decimal {what}, found byte 0x{data[pos]:X2}");
        }

        if (pos < data.Length && !IsWhitespace(data[pos]) && data[pos] != (byte)'#')
        {
            ThrowInvalid(pos, $"unexpected byte 0x{data[pos]:X2} after the {what}");
        }

        _pos = pos;
        if (what == "sample" && value > _maxval)
        {
            ThrowInvalid(start, $"sample {value} exceeds maxval {_maxval}");
        }

        return (int)value;
    }

    [DoesNotReturn]
    private static void ThrowInvalid(long offset, string reason) =>
        throw new InvalidImageContentException(ImageFormat.Pnm, offset, reason);
}

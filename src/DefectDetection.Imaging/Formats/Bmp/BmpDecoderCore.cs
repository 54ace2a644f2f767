using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace DefectDetection.Imaging.Formats.Bmp;

/// <summary>Decodes one BMP image; created per call by <see cref="BmpDecoder"/>.</summary>
internal sealed class BmpDecoderCore
{
    private const int FileHeaderSize = 14;
    private const int BiRgb = 0;
    private const int BiRle8 = 1;
    private const int BiRle4 = 2;
    private const int BiBitfields = 3;
    private const int BiJpeg = 4;
    private const int BiPng = 5;
    private const int BiAlphaBitfields = 6;

    private readonly DecoderOptions _options;
    private int _width;
    private int _height;
    private bool _topDown;
    private int _bitCount;
    private int _compression;
    private int _pixelOffset;
    private uint _redMask;
    private uint _greenMask;
    private uint _blueMask;
    private uint _alphaMask;
    private uint[]? _palette; // packed R | G << 8 | B << 16
    private int _paletteCount;
    private bool _grayPalette;

    public BmpDecoderCore(DecoderOptions options) => _options = options;

    public ImageInfo Identify(ReadOnlySpan<byte> data)
    {
        ReadHeaders(data);
        PixelFormat format = OutputFormat();
        int channels = _bitCount <= 8 ? (_grayPalette ? 1 : 3) : format.ChannelCount();
        string compression = _compression is BiBitfields or BiAlphaBitfields ? "bit fields" : "BI_RGB";
        string layout = _topDown ? "top-down" : "bottom-up";
        string details = _bitCount <= 8
            ? $"palette {_bitCount}-bit, {_paletteCount} colours{(_grayPalette ? " (gray)" : string.Empty)}, {layout}"
            : $"{_bitCount}-bit {compression}, {layout}";
        return new ImageInfo(ImageFormat.Bmp, _width, _height, channels, Math.Min(_bitCount, 8), format) { Details = details };
    }

    public Image Decode(ReadOnlySpan<byte> data)
    {
        ReadHeaders(data);
        PixelFormat format = OutputFormat();
        _options.CheckDimensions(ImageFormat.Bmp, _width, _height, format.ChannelCount(), 18);
        long stride = ((((long)_width * _bitCount) + 31) / 32) * 4;
        long needed = _pixelOffset + (stride * _height);
        if (needed > data.Length)
        {
            // A missing padding on the very last row is tolerated (some writers omit it).
            long lastRow = ((((long)_width * _bitCount) + 7) / 8);
            if (_pixelOffset + (stride * (_height - 1)) + lastRow > data.Length)
            {
                ThrowInvalid(data.Length, $"the pixel data needs {needed - _pixelOffset:N0} bytes from offset {_pixelOffset}, but the file has {data.Length:N0} bytes (truncated file)");
            }
        }

        Image image = Image.CreateUninitialized(_width, _height, format);
        try
        {
            for (int y = 0; y < _height; y++)
            {
                int fileRow = _topDown ? y : _height - 1 - y;
                long start = _pixelOffset + (fileRow * stride);
                ReadOnlySpan<byte> src = data.Slice((int)start, (int)Math.Min(stride, data.Length - start));
                ConvertRow(src, image.GetRow(y));
            }

            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private PixelFormat OutputFormat()
    {
        if (_bitCount <= 8)
        {
            return _grayPalette ? PixelFormat.Gray8 : PixelFormat.Rgb24;
        }

        return _alphaMask != 0 ? PixelFormat.Rgba32 : PixelFormat.Rgb24;
    }

    private void ConvertRow(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int w = _width;
        switch (_bitCount)
        {
            case 1:
            case 2:
            case 4:
            case 8:
                ConvertPaletteRow(src, dst);
                break;
            case 24:
                for (int x = 0; x < w; x++)
                {
                    int s = 3 * x;
                    int o = 3 * x;
                    dst[o] = src[s + 2];
                    dst[o + 1] = src[s + 1];
                    dst[o + 2] = src[s];
                }

                break;
            case 32 when _compression == BiRgb:
                for (int x = 0; x < w; x++)
                {
                    int s = 4 * x;
                    int o = 3 * x;
                    dst[o] = src[s + 2];
                    dst[o + 1] = src[s + 1];
                    dst[o + 2] = src[s];
                }

                break;
            default:
                ConvertBitfieldRow(src, dst);
                break;
        }
    }

    private void ConvertPaletteRow(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        uint[] palette = _palette!;
        int depth = _bitCount;
        int mask = (1 << depth) - 1;
        for (int x = 0; x < _width; x++)
        {
            int index;
            if (depth == 8)
            {
                index = src[x];
            }
            else
            {
                int bit = x * depth;
                index = (src[bit >> 3] >> (8 - depth - (bit & 7))) & mask;
            }

            if (index >= _paletteCount)
            {
                ThrowInvalid(-1, $"pixel ({x}) uses colour index {index}, but the palette has {_paletteCount} entries");
            }

            uint c = palette[index];
            if (_grayPalette)
            {
                dst[x] = (byte)c;
            }
            else
            {
                dst[3 * x] = (byte)c;
                dst[(3 * x) + 1] = (byte)(c >> 8);
                dst[(3 * x) + 2] = (byte)(c >> 16);
            }
        }
    }

    private void ConvertBitfieldRow(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int channels = _alphaMask != 0 ? 4 : 3;
        bool wide = _bitCount == 32;
        for (int x = 0; x < _width; x++)
        {
            uint v = wide ? BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * x)..]) : BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * x)..]);
            int o = channels * x;
            dst[o] = Extract(v, _redMask);
            dst[o + 1] = Extract(v, _greenMask);
            dst[o + 2] = Extract(v, _blueMask);
            if (channels == 4)
            {
                dst[o + 3] = Extract(v, _alphaMask);
            }
        }
    }

    /// <summary>The channel under <paramref name="mask"/>, scaled to 0..255 (rounded); 0 for an empty mask.</summary>
    private static byte Extract(uint value, uint mask)
    {
        if (mask == 0)
        {
            return 0;
        }

        int shift = BitOperations.TrailingZeroCount(mask);
        uint max = mask >> shift;
        uint v = (value & mask) >> shift;
        if (max == 255)
        {
            return (byte)v;
        }

        return (byte)(((v * 255UL) + (max / 2)) / max);
    }

    private void ReadHeaders(ReadOnlySpan<byte> data)
    {
        if (data.Length < FileHeaderSize + 4 || data[0] != (byte)'B' || data[1] != (byte)'M')
        {
            ThrowInvalid(0, data.Length < FileHeaderSize + 4 ? "the data is too short for a BMP header" : "missing 'BM' signature");
        }

        uint pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        int infoSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
        if (infoSize is not (12 or 16 or 40 or 52 or 56 or 64 or 108 or 124))
        {
            ThrowInvalid(14, $"unsupported DIB header size {infoSize}");
        }

        if (data.Length < FileHeaderSize + infoSize)
        {
            ThrowInvalid(data.Length, "the data ends inside the DIB header (truncated file)");
        }

        ReadOnlySpan<byte> info = data.Slice(FileHeaderSize, infoSize);
        int paletteEntrySize = 4;
        long width, height;
        int planes;
        if (infoSize == 12)
        {
            // OS/2 BITMAPCOREHEADER: 16-bit sizes and 3-byte palette entries.
            width = BinaryPrimitives.ReadUInt16LittleEndian(info[4..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(info[6..]);
            planes = BinaryPrimitives.ReadUInt16LittleEndian(info[8..]);
            _bitCount = BinaryPrimitives.ReadUInt16LittleEndian(info[10..]);
            _compression = BiRgb;
            paletteEntrySize = 3;
        }
        else
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(info[4..]);
            height = BinaryPrimitives.ReadInt32LittleEndian(info[8..]);
            planes = BinaryPrimitives.ReadUInt16LittleEndian(info[12..]);
            _bitCount = BinaryPrimitives.ReadUInt16LittleEndian(info[14..]);
            _compression = infoSize >= 20 ? BinaryPrimitives.ReadInt32LittleEndian(info[16..]) : BiRgb;
        }

        if (infoSize is 16 or 64 && _compression != BiRgb)
        {
            // OS/2 2.x headers number their compressions differently (3 = Huffman 1D, 4 = RLE24).
            ThrowInvalid(FileHeaderSize + 16, $"compressed OS/2 bitmaps (compression {_compression}) are not supported");
        }

        _topDown = height < 0;
        height = Math.Abs(height);
        if (planes != 1)
        {
            ThrowInvalid(FileHeaderSize + 12, $"{planes} colour planes, expected 1");
        }

        switch (_compression)
        {
            case BiRle8 or BiRle4:
                ThrowInvalid(FileHeaderSize + 16, $"RLE-compressed bitmaps (BI_RLE{(_compression == BiRle8 ? 8 : 4)}) are not supported");
                break;
            case BiJpeg or BiPng:
                ThrowInvalid(FileHeaderSize + 16, $"bitmaps embedding {(_compression == BiJpeg ? "JPEG" : "PNG")} data are not supported");
                break;
            case BiRgb or BiBitfields or BiAlphaBitfields:
                break;
            default:
                ThrowInvalid(FileHeaderSize + 16, $"unknown compression {_compression}");
                break;
        }

        bool bitfields = _compression is BiBitfields or BiAlphaBitfields;
        if (_bitCount is not (1 or 2 or 4 or 8 or 16 or 24 or 32) || (bitfields && _bitCount is not (16 or 32)))
        {
            ThrowInvalid(FileHeaderSize + 14, $"unsupported bit count {_bitCount}{(bitfields ? " with bit fields" : string.Empty)}");
        }

        if (_topDown && _compression is not (BiRgb or BiBitfields or BiAlphaBitfields))
        {
            ThrowInvalid(FileHeaderSize + 8, "a top-down bitmap must not be compressed");
        }

        _options.CheckDimensions(ImageFormat.Bmp, width, height, 3, FileHeaderSize + 4);
        _width = (int)width;
        _height = (int)height;

        // Bit-field masks: inside the header from V2 (52 bytes) on, else right after a 40-byte header.
        int afterHeader = FileHeaderSize + infoSize;
        if (bitfields)
        {
            int maskCount = _compression == BiAlphaBitfields ? 4 : 3;
            ReadOnlySpan<byte> masks;
            if (infoSize >= 52)
            {
                masks = info.Slice(40, Math.Min(infoSize - 40, 16));
            }
            else
            {
                if (data.Length < afterHeader + (4 * maskCount))
                {
                    ThrowInvalid(afterHeader, "the data ends inside the bit-field masks (truncated file)");
                }

                masks = data.Slice(afterHeader, 4 * maskCount);
                afterHeader += 4 * maskCount;
            }

            _redMask = BinaryPrimitives.ReadUInt32LittleEndian(masks);
            _greenMask = BinaryPrimitives.ReadUInt32LittleEndian(masks[4..]);
            _blueMask = BinaryPrimitives.ReadUInt32LittleEndian(masks[8..]);
            _alphaMask = masks.Length >= 16 && (maskCount == 4 || infoSize >= 56) ? BinaryPrimitives.ReadUInt32LittleEndian(masks[12..]) : 0;
            CheckMask(_redMask, "red");
            CheckMask(_greenMask, "green");
            CheckMask(_blueMask, "blue");
            CheckMask(_alphaMask, "alpha");
        }
        else if (_bitCount == 16)
        {
            (_redMask, _greenMask, _blueMask) = (0x7C00u, 0x03E0u, 0x001Fu);
        }

        if (_bitCount <= 8)
        {
            int declared = infoSize >= 36 ? BinaryPrimitives.ReadInt32LittleEndian(info[32..]) : 0;
            int max = 1 << _bitCount;
            int count = declared <= 0 || declared > max ? max : declared;

            // Some writers leave no room for a full palette; take what fits before the pixels.
            long room = ((long)pixelOffset - afterHeader) / paletteEntrySize;
            if (pixelOffset > afterHeader && room < count)
            {
                count = (int)room;
            }

            if (count <= 0)
            {
                ThrowInvalid(afterHeader, "palette bitmap without a palette");
            }

            if (data.Length < afterHeader + (count * paletteEntrySize))
            {
                ThrowInvalid(data.Length, "the data ends inside the palette (truncated file)");
            }

            _palette = new uint[count];
            _grayPalette = true;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> e = data.Slice(afterHeader + (i * paletteEntrySize), 3);
                _palette[i] = e[2] | ((uint)e[1] << 8) | ((uint)e[0] << 16);
                _grayPalette &= e[0] == e[1] && e[1] == e[2];
            }

            _paletteCount = count;
        }

        if (pixelOffset < afterHeader || pixelOffset > data.Length)
        {
            ThrowInvalid(10, $"pixel data offset {pixelOffset} lies outside the file ({data.Length:N0} bytes) or inside the headers");
        }

        _pixelOffset = (int)pixelOffset;
    }

    private static void CheckMask(uint mask, string name)
    {
        if (mask == 0)
        {
            return;
        }

        uint shifted = mask >> BitOperations.TrailingZeroCount(mask);
        if ((shifted & (shifted + 1)) != 0)
        {
            ThrowInvalid(FileHeaderSize + 40, $"the {name} bit-field mask 0x{mask:X8} is not one run of bits");
        }
    }

    [DoesNotReturn]
    private static void ThrowInvalid(long offset, string reason) =>
        throw new InvalidImageContentException(ImageFormat.Bmp, offset, reason);
}

using System.Buffers.Binary;
using System.IO.Compression;
using DefectDetection.Imaging.Memory;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>
/// Decodes one PNG image; created per call by <see cref="PngDecoder"/>. Chunks are walked once (CRC checked on
/// every chunk), the IDAT payloads are inflated in place from the input through <see cref="ZLibStream"/>, and
/// rows are unfiltered and converted one at a time into the output image.
/// </summary>
internal sealed partial class PngDecoderCore
{
    private readonly DecoderOptions _options;
    private PngHeader _header;
    private bool _haveHeader;

    // Palette as packed R, G, B, A bytes (little-endian uint), 256 entries: indices past the PLTE entries
    // decode as opaque black, as libpng does.
    private uint[]? _palette;
    private int _paletteCount;
    private bool _hasTrns;
    private ushort _trnsR;
    private ushort _trnsG;
    private ushort _trnsB;

    private int _firstIdatOffset = -1;
    private ExifOrientation _orientation;

    public PngDecoderCore(DecoderOptions options) => _options = options;

    /// <summary>Reads the chunks up to the first IDAT.</summary>
    public ImageInfo Identify(ReadOnlySpan<byte> data)
    {
        ReadChunks(data, stopAtImageData: true);
        int channels = _header.ColorType == PngColorType.Palette ? (_hasTrns ? 4 : 3) : _header.SamplesPerPixel;
        return new ImageInfo(ImageFormat.Png, _header.Width, _header.Height, channels, _header.BitDepth, OutputFormat(), _orientation)
        {
            Details = Describe(),
        };
    }

    /// <summary>Decodes the whole image.</summary>
    public Image Decode(ReadOnlySpan<byte> data)
    {
        ReadChunks(data, stopAtImageData: false);
        PixelFormat format = OutputFormat();
        int outChannels = format.ChannelCount();

        // Peak memory: the output plus two rows of the file's pixels.
        _options.CheckDimensions(ImageFormat.Png, _header.Width, _header.Height, outChannels, 16);
        long rowBytes = _header.RowBytes(_header.Width);
        if (rowBytes > Array.MaxLength - 64)
        {
            PngThrowHelper.ThrowInvalid(16, $"rows of {rowBytes:N0} bytes are too long");
        }

        Image image = Image.CreateUninitialized(_header.Width, _header.Height, format);
        try
        {
            DecodePixels(data, image, (int)rowBytes);
            if (!_options.ApplyExifOrientation || _orientation is ExifOrientation.Unknown or ExifOrientation.TopLeft)
            {
                return image;
            }

            Image upright = Orientation.ApplyExif(image, _orientation);
            image.Dispose();
            return upright;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private unsafe void DecodePixels(ReadOnlySpan<byte> data, Image image, int maxRowBytes)
    {
        byte[] rowA = PixelBufferPool.Rent<byte>(maxRowBytes + 1);
        byte[] rowB = PixelBufferPool.Rent<byte>(maxRowBytes + 1);
        long produced = 0;
        try
        {
            fixed (byte* input = data)
            {
                using IdatStream idat = new(input, data.Length, _firstIdatOffset);
                using ZLibStream zlib = new(idat, CompressionMode.Decompress);
                int passes = _header.Interlaced ? 7 : 1;
                int step = _header.FilterStep;
                for (int pass = 0; pass < passes; pass++)
                {
                    int x0 = 0, y0 = 0, dx = 1, dy = 1;
                    if (_header.Interlaced)
                    {
                        ReadOnlySpan<byte> adam = PngConstants.Adam7.Slice(pass * 4, 4);
                        (x0, y0, dx, dy) = (adam[0], adam[1], adam[2], adam[3]);
                    }

                    int passWidth = (_header.Width - x0 + dx - 1) / dx;
                    int passHeight = (_header.Height - y0 + dy - 1) / dy;
                    if (passWidth <= 0 || passHeight <= 0)
                    {
                        continue;
                    }

                    int rowBytes = (int)_header.RowBytes(passWidth);
                    for (int r = 0; r < passHeight; r++)
                    {
                        // The two row buffers take turns as the current and the previous row.
                        Span<byte> cur = (r & 1) == 0 ? rowA.AsSpan(0, rowBytes + 1) : rowB.AsSpan(0, rowBytes + 1);
                        Span<byte> prev = (r & 1) == 0 ? rowB.AsSpan(0, rowBytes + 1) : rowA.AsSpan(0, rowBytes + 1);
                        if (r == 0)
                        {
                            prev.Clear();
                        }

                        int got = zlib.ReadAtLeast(cur, cur.Length, throwOnEndOfStream: false);
                        produced += got;
                        if (got < cur.Length)
                        {
                            PngThrowHelper.ThrowInvalid(_firstIdatOffset,
                                $"the image data ends after {produced:N0} of {ExpectedImageBytes():N0} bytes (truncated IDAT stream)");
                        }

                        byte filter = cur[0];
                        if (filter > 4)
                        {
                            PngThrowHelper.ThrowInvalid(_firstIdatOffset, $"invalid filter type {filter} on row {r} of pass {pass + 1}");
                        }

                        Span<byte> row = cur[1..];
                        PngFilters.Unfilter((PngFilterType)filter, row, prev[1..], step);
                        ConvertRow(row, image.GetRow(y0 + (r * dy)), x0, dx, passWidth);
                    }
                }
            }
        }
        catch (InvalidDataException ex)
        {
            PngThrowHelper.ThrowInvalid(_firstIdatOffset, $"corrupt zlib data in IDAT after {produced:N0} decoded bytes: {ex.Message}", ex);
        }
        finally
        {
            PixelBufferPool.Return(rowA);
            PixelBufferPool.Return(rowB);
        }
    }

    /// <summary>The number of bytes the zlib stream must inflate to: every row of every pass with its filter byte.</summary>
    internal long ExpectedImageBytes()
    {
        if (!_header.Interlaced)
        {
            return _header.Height * (1 + _header.RowBytes(_header.Width));
        }

        long total = 0;
        for (int pass = 0; pass < 7; pass++)
        {
            ReadOnlySpan<byte> adam = PngConstants.Adam7.Slice(pass * 4, 4);
            long w = (_header.Width - adam[0] + adam[2] - 1) / adam[2];
            long h = (_header.Height - adam[1] + adam[3] - 1) / adam[3];
            if (w > 0 && h > 0)
            {
                total += h * (1 + _header.RowBytes((int)w));
            }
        }

        return total;
    }

    private PixelFormat OutputFormat() => _header.ColorType switch
    {
        PngColorType.Grayscale => _hasTrns ? PixelFormat.Rgba32 : PixelFormat.Gray8,
        PngColorType.Rgb or PngColorType.Palette => _hasTrns ? PixelFormat.Rgba32 : PixelFormat.Rgb24,
        _ => PixelFormat.Rgba32,
    };

    private string Describe()
    {
        string kind = _header.ColorType switch
        {
            PngColorType.Grayscale => "gray",
            PngColorType.Rgb => "RGB",
            PngColorType.Palette => "palette",
            PngColorType.GrayscaleAlpha => "gray+alpha",
            _ => "RGBA",
        };
        string details = $"{kind} {_header.BitDepth}-bit";
        if (_header.ColorType == PngColorType.Palette)
        {
            details += $", {_paletteCount} colours";
        }

        if (_hasTrns)
        {
            details += ", tRNS";
        }

        return _header.Interlaced ? details + ", interlaced" : details;
    }

    private void ReadChunks(ReadOnlySpan<byte> data, bool stopAtImageData)
    {
        if (data.Length < 8 || !data[..8].SequenceEqual(PngConstants.Signature))
        {
            PngThrowHelper.ThrowInvalid(0, "missing PNG signature");
        }

        int pos = 8;
        bool seenIdat = false;
        bool idatEnded = false;
        while (true)
        {
            if (data.Length - pos < 8)
            {
                PngThrowHelper.ThrowTruncated(pos, seenIdat ? "the chunks after the image data (no IEND)" : "a chunk header");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            uint type = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 4)..]);
            if (length > int.MaxValue)
            {
                PngThrowHelper.ThrowInvalid(pos, $"chunk {PngConstants.ChunkName(type)} declares {length:N0} bytes, over the PNG limit of 2^31-1");
            }

            if (data.Length - pos - 12 < length)
            {
                PngThrowHelper.ThrowTruncated(pos, $"chunk {PngConstants.ChunkName(type)} of {length:N0} bytes");
            }

            int start = pos + 8;
            ReadOnlySpan<byte> chunk = data.Slice(start, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[(start + (int)length)..]);
            uint computed = PngCrc32.Compute(data.Slice(pos + 4, (int)length + 4));
            if (stored != computed)
            {
                PngThrowHelper.ThrowBadCrc(PngConstants.ChunkName(type), pos, stored, computed);
            }

            if (!_haveHeader && type != PngConstants.Ihdr)
            {
                PngThrowHelper.ThrowInvalid(pos, $"the first chunk is {PngConstants.ChunkName(type)}, expected IHDR");
            }

            if (seenIdat && type != PngConstants.Idat)
            {
                idatEnded = true;
            }

            switch (type)
            {
                case PngConstants.Ihdr:
                    if (_haveHeader)
                    {
                        PngThrowHelper.ThrowInvalid(pos, "duplicate IHDR chunk");
                    }

                    ParseHeader(chunk, start);
                    break;
                case PngConstants.Plte:
                    if (seenIdat)
                    {
                        PngThrowHelper.ThrowInvalid(pos, "PLTE after IDAT");
                    }

                    ParsePalette(chunk, pos);
                    break;
                case PngConstants.Trns:
                    if (!seenIdat)
                    {
                        ParseTransparency(chunk);
                    }

                    break;
                case PngConstants.Exif:
                    _orientation = ExifReader.ReadOrientation(chunk);
                    break;
                case PngConstants.Idat:
                    if (idatEnded)
                    {
                        PngThrowHelper.ThrowInvalid(pos, "IDAT chunks are not consecutive");
                    }

                    if (_header.ColorType == PngColorType.Palette && _palette is null)
                    {
                        PngThrowHelper.ThrowInvalid(pos, "palette image without a PLTE chunk before IDAT");
                    }

                    if (!seenIdat)
                    {
                        seenIdat = true;
                        _firstIdatOffset = pos;
                        if (stopAtImageData)
                        {
                            return;
                        }
                    }

                    break;
                case PngConstants.Iend:
                    if (!seenIdat)
                    {
                        PngThrowHelper.ThrowInvalid(pos, "IEND before any IDAT chunk");
                    }

                    return;
                default:
                    // Bit 5 of the first letter clear (upper case) marks a critical chunk we must understand.
                    if ((type & 0x20000000) == 0)
                    {
                        PngThrowHelper.ThrowInvalid(pos, $"unknown critical chunk {PngConstants.ChunkName(type)}");
                    }

                    break;
            }

            pos = start + (int)length + 4;
        }
    }

    private void ParseHeader(ReadOnlySpan<byte> chunk, int offset)
    {
        if (chunk.Length != 13)
        {
            PngThrowHelper.ThrowInvalid(offset, $"IHDR has {chunk.Length} bytes, expected 13");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(chunk);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(chunk[4..]);
        int depth = chunk[8];
        int colorType = chunk[9];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
        {
            PngThrowHelper.ThrowInvalid(offset, $"invalid dimensions {width}x{height}");
        }

        bool valid = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!valid)
        {
            PngThrowHelper.ThrowInvalid(offset + 8, $"invalid colour type {colorType} with bit depth {depth}");
        }

        if (chunk[10] != 0 || chunk[11] != 0)
        {
            PngThrowHelper.ThrowInvalid(offset + 10, $"unknown compression method {chunk[10]} or filter method {chunk[11]}");
        }

        if (chunk[12] > 1)
        {
            PngThrowHelper.ThrowInvalid(offset + 12, $"unknown interlace method {chunk[12]}");
        }

        _header = new PngHeader((int)width, (int)height, depth, (PngColorType)colorType, chunk[12] == 1);
        _haveHeader = true;

        // Reject absurd sizes as early as Identify, before anything is allocated.
        int channels = _header.ColorType is PngColorType.Grayscale ? 1 : 3;
        _options.CheckDimensions(ImageFormat.Png, width, height, channels, offset);
    }

    private void ParsePalette(ReadOnlySpan<byte> chunk, int offset)
    {
        if (_header.ColorType is PngColorType.Grayscale or PngColorType.GrayscaleAlpha)
        {
            return; // Not allowed in gray images; ignored, as libpng does.
        }

        if (_palette is not null)
        {
            PngThrowHelper.ThrowInvalid(offset, "duplicate PLTE chunk");
        }

        int count = chunk.Length / 3;
        if (chunk.Length % 3 != 0 || count == 0 || count > 256)
        {
            if (_header.ColorType == PngColorType.Palette)
            {
                PngThrowHelper.ThrowInvalid(offset, $"PLTE of {chunk.Length} bytes is not 1 to 256 RGB entries");
            }

            return; // Only a suggestion for truecolour images.
        }

        uint[] palette = new uint[256];
        for (int i = 0; i < 256; i++)
        {
            palette[i] = 0xFF000000u;
        }

        for (int i = 0; i < count; i++)
        {
            palette[i] = chunk[3 * i] | ((uint)chunk[(3 * i) + 1] << 8) | ((uint)chunk[(3 * i) + 2] << 16) | 0xFF000000u;
        }

        _palette = palette;
        _paletteCount = count;
    }

    private void ParseTransparency(ReadOnlySpan<byte> chunk)
    {
        // Malformed or misplaced tRNS chunks are ignored, as libpng does (a benign error there).
        if (_hasTrns)
        {
            return;
        }

        int mask = _header.BitDepth == 16 ? 0xFFFF : (1 << _header.BitDepth) - 1;
        switch (_header.ColorType)
        {
            case PngColorType.Grayscale when chunk.Length == 2:
                _trnsR = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(chunk) & mask);
                _hasTrns = true;
                break;
            case PngColorType.Rgb when chunk.Length == 6:
                _trnsR = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(chunk) & mask);
                _trnsG = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(chunk[2..]) & mask);
                _trnsB = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(chunk[4..]) & mask);
                _hasTrns = true;
                break;
            case PngColorType.Palette when _palette is not null && chunk.Length > 0 && chunk.Length <= _paletteCount:
                for (int i = 0; i < chunk.Length; i++)
                {
                    _palette[i] = (_palette[i] & 0x00FFFFFFu) | ((uint)chunk[i] << 24);
                }

                _hasTrns = true;
                break;
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using DefectDetection.Imaging.Memory;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// One JPEG decode: marker parsing and the overall flow. Created per call; not thread-safe. The input is pinned
/// for the duration of the call and read through <see cref="_data"/>.
/// Baseline files whose first scan holds every component are decoded one row of MCUs at a time (coefficients of
/// one MCU row, samples of three); progressive and multi-scan files keep the coefficients of the whole image.
/// </summary>
internal sealed unsafe partial class JpegDecoderCore
{
    private readonly DecoderOptions _options;
    private readonly ushort[]?[] _quant = new ushort[]?[4];
    private readonly HuffmanTable?[] _dcTables = new HuffmanTable?[4];
    private readonly HuffmanTable?[] _acTables = new HuffmanTable?[4];

    private byte* _data;
    private int _length;
    private int _pos;

    private bool _frameSeen;
    private bool _progressive;
    private int _width;
    private int _height;
    private Component[] _components = [];
    private int _hmax;
    private int _vmax;
    private int _mcusX;
    private int _mcusY;
    private int _restartInterval;
    private int _scansRead;
    private bool _jfif;
    private bool _adobe;
    private int _adobeTransform;
    private ExifOrientation _orientation;
    private ColorSpace _colorSpace;

    public JpegDecoderCore(DecoderOptions options) => _options = options;

    private enum ColorSpace
    {
        Gray,
        YCbCr,
        Rgb,
        Cmyk,
        Ycck,
    }

    public ImageInfo Identify(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            _data = p;
            _length = data.Length;
            _pos = 0;
            ReadHeaders(forIdentify: true);
        }

        _data = null;
        bool gray = _components.Length == 1;
        return new ImageInfo(ImageFormat.Jpeg, _width, _height, _components.Length, 8,
            gray ? PixelFormat.Gray8 : PixelFormat.Rgb24, _orientation)
        { Details = DescribeFrame() };
    }

    public Image Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length > _options.MaxInputBytes)
        {
            ThrowInvalid(-1, $"input of {data.Length:N0} bytes exceeds the limit of {_options.MaxInputBytes:N0} bytes");
        }

        Image? image = null;
        try
        {
            fixed (byte* p = data)
            {
                _data = p;
                _length = data.Length;
                _pos = 0;
                ReadHeaders(forIdentify: false);
                image = Image.CreateUninitialized(_width, _height, _components.Length == 1 ? PixelFormat.Gray8 : PixelFormat.Rgb24);
                DecodeScans(image);
            }
        }
        catch
        {
            image?.Dispose();
            throw;
        }
        finally
        {
            _data = null;
            ReleaseBuffers();
        }

        if (_options.ApplyExifOrientation && _orientation is not (ExifOrientation.Unknown or ExifOrientation.TopLeft))
        {
            using Image stored = image;
            return Orientation.ApplyExif(stored.View(), _orientation);
        }

        return image;
    }

    private string DescribeFrame()
    {
        string mode = _progressive ? "progressive" : "baseline";
        string space = _colorSpace switch
        {
            ColorSpace.Gray => "gray",
            ColorSpace.Rgb => "RGB " + SamplingName(),
            ColorSpace.Cmyk => "CMYK " + SamplingName(),
            ColorSpace.Ycck => "YCCK " + SamplingName(),
            _ => SamplingName(),
        };
        string restart = _restartInterval > 0 ? $", restart {_restartInterval}" : string.Empty;
        return $"{mode} {space}{restart}";
    }

    private string SamplingName()
    {
        Component y = _components[0];
        bool chromaSame = true;
        for (int i = 1; i < _components.Length; i++)
        {
            chromaSame &= _components[i].H == _components[1].H && _components[i].V == _components[1].V;
        }

        if (chromaSame && _components.Length >= 3 && _components[1].H == 1 && _components[1].V == 1 &&
            (_components.Length == 3 || (_components[3].H == y.H && _components[3].V == y.V)))
        {
            string? name = (y.H, y.V) switch
            {
                (1, 1) => "4:4:4",
                (2, 1) => "4:2:2",
                (2, 2) => "4:2:0",
                (1, 2) => "4:4:0",
                (4, 1) => "4:1:1",
                (4, 2) => "4:1:0",
                _ => null,
            };
            if (name is not null)
            {
                return name;
            }
        }

        return string.Join(",", _components.Select(c => $"{c.H}x{c.V}"));
    }

    // ---- Markers -------------------------------------------------------------------------------------------

    /// <summary>Reads markers from SOI up to the first SOS (left at <see cref="_pos"/>, pointing at the SOS marker).</summary>
    private void ReadHeaders(bool forIdentify)
    {
        if (_length < 3 || _data[0] != 0xFF || _data[1] != 0xD8)
        {
            ThrowInvalid(0, "missing SOI marker (not a JPEG file)");
        }

        _pos = 2;
        while (true)
        {
            int markerOffset = _pos;
            int marker = NextMarker();
            if (marker == 0xDA)
            {
                if (!_frameSeen)
                {
                    ThrowInvalid(markerOffset, "scan (SOS) before the frame header (SOF)");
                }

                _pos = markerOffset;
                FinishHeader(forIdentify);
                return;
            }

            if (marker == 0xD9)
            {
                ThrowInvalid(markerOffset, _frameSeen ? "no scan data before EOI" : "no frame header (SOF) before EOI");
            }

            ReadMarkerSegment(marker, markerOffset);
        }
    }

    private void FinishHeader(bool forIdentify)
    {
        if (_components.Length == 1)
        {
            _colorSpace = ColorSpace.Gray;
        }
        else if (_components.Length == 3)
        {
            if (_jfif)
            {
                _colorSpace = ColorSpace.YCbCr;
            }
            else if (_adobe)
            {
                _colorSpace = _adobeTransform == 0 ? ColorSpace.Rgb : ColorSpace.YCbCr;
            }
            else
            {
                _colorSpace = _components[0].Id == 'R' && _components[1].Id == 'G' && _components[2].Id == 'B' ? ColorSpace.Rgb : ColorSpace.YCbCr;
            }
        }
        else if (_components.Length == 4)
        {
            // Adobe transform 0 = CMYK, 2 (or any other value) = YCCK; without the Adobe marker, CMYK (as libjpeg).
            _colorSpace = _adobe && _adobeTransform != 0 ? ColorSpace.Ycck : ColorSpace.Cmyk;
        }
        else
        {
            ThrowInvalid(-1, $"{_components.Length} colour components are not supported (only 1, 3 or 4)");
        }

        if (!forIdentify)
        {
            // Peak memory: the output pixels, plus the coefficients of every component when progressive (2 bytes
            // per sample, padded), plus small row buffers.
            double perPixel = _components.Length == 1 ? 1 : 3;
            if (_progressive)
            {
                foreach (Component c in _components)
                {
                    perPixel += 2.0 * c.H * c.V / (_hmax * _vmax);
                }
            }

            _options.CheckDimensions(ImageFormat.Jpeg, _width, _height, perPixel * 1.05, -1);
            long outputBytes = (long)_width * _height * (_components.Length == 1 ? 1 : 3);
            long largestPlane = _components.Max(c => (long)c.BlocksPerLine * c.BlocksPerColumn * 64);
            if (outputBytes > Array.MaxLength || largestPlane > Array.MaxLength)
            {
                ThrowInvalid(-1, $"image of {_width}x{_height} pixels is too large for one buffer");
            }
        }
    }

    /// <summary>Finds the next marker at or after <see cref="_pos"/> (skipping fill bytes) and moves past it.</summary>
    private int NextMarker()
    {
        // Tolerate garbage between segments as libjpeg does, but never read past the end.
        while (_pos < _length)
        {
            if (_data[_pos] != 0xFF)
            {
                _pos++;
                continue;
            }

            while (_pos < _length && _data[_pos] == 0xFF)
            {
                _pos++;
            }

            if (_pos >= _length)
            {
                break;
            }

            int marker = _data[_pos++];
            if (marker != 0)
            {
                return marker;
            }
        }

        ThrowInvalid(_length, "unexpected end of data while looking for a marker (truncated file)");
        return 0;
    }

    private int ReadSegmentLength(int markerOffset)
    {
        if (_pos + 2 > _length)
        {
            ThrowInvalid(markerOffset, "truncated marker segment");
        }

        int length = (_data[_pos] << 8) | _data[_pos + 1];
        if (length < 2 || _pos + length > _length)
        {
            ThrowInvalid(markerOffset, $"marker segment length {length} runs past the end of the data (truncated file)");
        }

        return length;
    }

    private void ReadMarkerSegment(int marker, int markerOffset)
    {
        switch (marker)
        {
            case 0xD8:
                ThrowInvalid(markerOffset, "unexpected second SOI marker");
                break;
            case >= 0xD0 and <= 0xD7:
            case 0x01:
                return; // stand-alone markers
        }

        int length = ReadSegmentLength(markerOffset);
        int start = _pos + 2;
        int end = _pos + length;
        switch (marker)
        {
            case 0xC0:
            case 0xC1:
            case 0xC2:
                ReadFrame(marker, start, end, markerOffset);
                break;
            case 0xC3:
            case >= 0xC5 and <= 0xC7:
                ThrowInvalid(markerOffset, marker == 0xC3 ? "lossless JPEG is not supported" : "hierarchical JPEG is not supported");
                break;
            case >= 0xC9 and <= 0xCB:
            case >= 0xCD and <= 0xCF:
                ThrowInvalid(markerOffset, "arithmetic-coded JPEG is not supported");
                break;
            case 0xC4:
                ReadHuffmanTables(start, end);
                break;
            case 0xDB:
                ReadQuantTables(start, end);
                break;
            case 0xDD:
                if (length < 4)
                {
                    ThrowInvalid(markerOffset, "DRI segment too short");
                }

                _restartInterval = (_data[start] << 8) | _data[start + 1];
                break;
            case 0xE0:
                if (length >= 7 && _data[start] == 'J' && _data[start + 1] == 'F' && _data[start + 2] == 'I' && _data[start + 3] == 'F' && _data[start + 4] == 0)
                {
                    _jfif = true;
                }

                break;
            case 0xE1:
                ReadExif(start, end);
                break;
            case 0xEE:
                if (length >= 14 && _data[start] == 'A' && _data[start + 1] == 'd' && _data[start + 2] == 'o' && _data[start + 3] == 'b' && _data[start + 4] == 'e')
                {
                    _adobe = true;
                    _adobeTransform = _data[start + 11];
                }

                break;
            case 0xDC:
                break; // DNL after the first scan is ignored; a zero height is rejected in SOF
            default:
                break; // APPn, COM, others: skipped
        }

        _pos = end;
    }

    private void ReadFrame(int marker, int start, int end, int markerOffset)
    {
        if (_frameSeen)
        {
            ThrowInvalid(markerOffset, "more than one frame header (SOF)");
        }

        if (end - start < 6)
        {
            ThrowInvalid(markerOffset, "SOF segment too short");
        }

        int precision = _data[start];
        if (precision != 8)
        {
            ThrowInvalid(markerOffset, $"{precision}-bit JPEG is not supported (only 8-bit samples)");
        }

        _progressive = marker == 0xC2;
        _height = (_data[start + 1] << 8) | _data[start + 2];
        _width = (_data[start + 3] << 8) | _data[start + 4];
        int count = _data[start + 5];
        if (_height == 0)
        {
            ThrowInvalid(markerOffset, "image height 0 (height defined by a DNL marker) is not supported");
        }

        if (_width == 0)
        {
            ThrowInvalid(markerOffset, "image width 0");
        }

        if (count is not (1 or 3 or 4))
        {
            ThrowInvalid(markerOffset, $"{count} colour components are not supported (only 1, 3 or 4)");
        }

        if (end - start < 6 + (3 * count))
        {
            ThrowInvalid(markerOffset, "SOF segment too short for its components");
        }

        var components = new Component[count];
        for (int i = 0; i < count; i++)
        {
            int p = start + 6 + (3 * i);
            int h = _data[p + 1] >> 4, v = _data[p + 1] & 15, tq = _data[p + 2];
            if (h is < 1 or > 4 || v is < 1 or > 4)
            {
                ThrowInvalid(p, $"invalid sampling factors {h}x{v} for component {i}");
            }

            if (tq > 3)
            {
                ThrowInvalid(p, $"invalid quantisation table {tq} for component {i}");
            }

            for (int j = 0; j < i; j++)
            {
                if (components[j].Id == _data[p])
                {
                    ThrowInvalid(p, $"duplicate component id {_data[p]}");
                }
            }

            components[i] = new Component { Id = _data[p], Index = i, H = h, V = v, QuantIndex = tq };
        }

        if (count == 1)
        {
            // Sampling factors of a lone component are meaningless: its MCU is one block.
            components[0].H = components[0].V = 1;
        }

        _components = components;
        _hmax = components.Max(c => c.H);
        _vmax = components.Max(c => c.V);
        _mcusX = DivCeil(_width, 8 * _hmax);
        _mcusY = DivCeil(_height, 8 * _vmax);
        foreach (Component c in components)
        {
            c.DownsampledWidth = DivCeil(_width * c.H, _hmax);
            c.DownsampledHeight = DivCeil(_height * c.V, _vmax);
            c.WidthInBlocks = DivCeil(c.DownsampledWidth, 8);
            c.HeightInBlocks = DivCeil(c.DownsampledHeight, 8);
            c.BlocksPerLine = _mcusX * c.H;
            c.BlocksPerColumn = _mcusY * c.V;
        }

        _frameSeen = true;
    }

    private void ReadQuantTables(int start, int end)
    {
        int p = start;
        while (p < end)
        {
            int pq = _data[p] >> 4, tq = _data[p] & 15;
            if (tq > 3 || pq > 1)
            {
                ThrowInvalid(p, $"invalid quantisation table header {_data[p]:X2}");
            }

            int size = pq == 0 ? 64 : 128;
            if (p + 1 + size > end)
            {
                ThrowInvalid(p, "quantisation table runs past its segment");
            }

            var table = new ushort[64];
            for (int k = 0; k < 64; k++)
            {
                int value = pq == 0 ? _data[p + 1 + k] : (_data[p + 1 + (2 * k)] << 8) | _data[p + 2 + (2 * k)];
                table[ZigZag[k]] = (ushort)value;
            }

            _quant[tq] = table;
            p += 1 + size;
        }
    }

    private void ReadHuffmanTables(int start, int end)
    {
        int p = start;
        Span<byte> counts = stackalloc byte[16];
        while (p < end)
        {
            int tc = _data[p] >> 4, th = _data[p] & 15;
            if (tc > 1 || th > 3)
            {
                ThrowInvalid(p, $"invalid Huffman table header {_data[p]:X2}");
            }

            if (p + 17 > end)
            {
                ThrowInvalid(p, "Huffman table runs past its segment");
            }

            int total = 0;
            for (int i = 0; i < 16; i++)
            {
                counts[i] = _data[p + 1 + i];
                total += counts[i];
            }

            if (total > 256 || p + 17 + total > end)
            {
                ThrowInvalid(p, "Huffman table has too many symbols or runs past its segment");
            }

            var table = new HuffmanTable();
            if (!table.Build(counts, new ReadOnlySpan<byte>(_data + p + 17, total), tc == 1))
            {
                ThrowInvalid(p, "invalid Huffman table (code lengths overflow)");
            }

            (tc == 0 ? _dcTables : _acTables)[th] = table;
            p += 17 + total;
        }
    }

    private void ReadExif(int start, int end)
    {
        int n = end - start;
        if (n < 14 || _data[start] != 'E' || _data[start + 1] != 'x' || _data[start + 2] != 'i' || _data[start + 3] != 'f' || _data[start + 4] != 0 || _data[start + 5] != 0)
        {
            return;
        }

        _orientation = ExifReader.ReadOrientation(new ReadOnlySpan<byte>(_data + start + 6, n - 6));
    }

    // ---- Helpers -------------------------------------------------------------------------------------------

    private static int DivCeil(int a, int b) => (a + b - 1) / b;

    [DoesNotReturn]
    private static void ThrowInvalid(long offset, string reason) => throw new InvalidImageContentException(ImageFormat.Jpeg, offset, reason);

    private void ReleaseBuffers()
    {
        foreach (Component c in _components)
        {
            PixelBufferPool.Return(c.Coefficients);
            c.Coefficients = null;
            PixelBufferPool.Return(c.Plane);
            c.Plane = null;
            PixelBufferPool.Return(c.EobMarks);
            c.EobMarks = null;
            PixelBufferPool.Return(c.Upsampled);
            c.Upsampled = null;
        }

        PixelBufferPool.Return(_colsum);
        _colsum = null;
    }

    /// <summary>The same as <see cref="ZigZag"/> at a fixed address (a constant for the JIT, saving a register).</summary>
    private static readonly byte* ZigZagTable = CreateZigZagTable();

    private static byte* CreateZigZagTable()
    {
        byte* table = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(80);
        ZigZag.CopyTo(new Span<byte>(table, 80));
        return table;
    }

    /// <summary>Zig-zag position to natural (row-major) position, with 16 guard entries for corrupt runs.</summary>
    internal static ReadOnlySpan<byte> ZigZag =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];

    /// <summary>A frame component and its per-decode buffers.</summary>
    private sealed class Component
    {
        public int Id;
        public int Index;
        public int H;
        public int V;
        public int QuantIndex;
        public int DownsampledWidth;
        public int DownsampledHeight;
        public int WidthInBlocks;
        public int HeightInBlocks;
        public int BlocksPerLine;
        public int BlocksPerColumn;

        // Scan state.
        public int DcPred;
        public HuffmanTable? Dc;
        public HuffmanTable? Ac;

        /// <summary>Dequantisation table in natural order, latched at the first scan that holds the component.</summary>
        public int[]? Quant;
        public Upsampling Mode;

        /// <summary>Coefficients in natural order, 64 per block: one MCU row (streaming) or the whole image.</summary>
        public short[]? Coefficients;

        /// <summary>Per block: 1 when only the DC coefficient may be non-zero (streaming baseline only).</summary>
        public byte[]? EobMarks;

        /// <summary>Sample ring of three MCU rows (row r at (r mod RingRows) * PlaneStride).</summary>
        public byte[]? Plane;
        public int PlaneStride;
        public int RingRows;

        /// <summary>One upsampled row, full output width (plus padding).</summary>
        public byte[]? Upsampled;
    }
}

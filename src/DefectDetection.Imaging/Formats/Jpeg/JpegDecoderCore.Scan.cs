using System.Diagnostics.CodeAnalysis;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>Scan headers, the decode flow over scans, and sequential (baseline) Huffman decoding.</summary>
internal sealed unsafe partial class JpegDecoderCore
{
    private readonly Component[] _scanComponents = new Component[4];
    private int _scanCount;
    private int _ss;
    private int _se;
    private int _ah;
    private int _al;
    private int _eobRun;
    private int _restartsToGo;

    private void DecodeScans(Image image)
    {
        ReadScanHeader();
        bool allInFirstScan = _scanCount == _components.Length;
        bool streaming = !_progressive && allInFirstScan;
        SetupOutput(streaming);

        if (streaming)
        {
            StartEntropyData(_pos);
            _restartsToGo = _restartInterval;
            for (int m = 0; m < _mcusY; m++)
            {
                foreach (Component c in _components)
                {
                    c.Coefficients.AsSpan(0, c.BlocksPerLine * c.V * 64).Clear();
                }

                DecodeMcuRow(m, streaming: true);
                if (ConsumedPastEnd)
                {
                    ThrowTruncatedScan(m);
                }

                TransformMcuRow(m, 0);
                if (m > 0)
                {
                    EmitMcuRow(image, m - 1);
                }
            }

            EmitMcuRow(image, _mcusY - 1);
            return;
        }

        while (true)
        {
            StartEntropyData(_pos);
            _restartsToGo = _restartInterval;
            _eobRun = 0;
            foreach (Component c in _components)
            {
                c.DcPred = 0;
            }

            int rows = _scanCount == 1 ? _scanComponents[0].HeightInBlocks : _mcusY;
            for (int m = 0; m < rows; m++)
            {
                DecodeMcuRow(m, streaming: false);
                if (ConsumedPastEnd)
                {
                    ThrowTruncatedScan(m);
                }
            }

            // Find the next marker after the scan: another scan, tables, or EOI.
            _pos = _bitPos;
            bool more = false;
            while (true)
            {
                int markerOffset = _pos;
                int marker = NextMarker();
                if (marker == 0xD9)
                {
                    break;
                }

                if (marker == 0xDA)
                {
                    _pos = markerOffset;
                    ReadScanHeader();
                    more = true;
                    break;
                }

                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    ThrowInvalid(markerOffset, "unexpected second frame header (SOF)");
                }

                ReadMarkerSegment(marker, markerOffset);
            }

            if (!more)
            {
                break;
            }
        }

        for (int m = 0; m < _mcusY; m++)
        {
            TransformMcuRow(m, m);
            if (m > 0)
            {
                EmitMcuRow(image, m - 1);
            }
        }

        EmitMcuRow(image, _mcusY - 1);
    }

    [DoesNotReturn]
    private void ThrowTruncatedScan(int row) =>
        ThrowInvalid(Math.Min(_bitPos, _length), $"scan data ends early (truncated or corrupt file) in MCU row {row}");

    private void ReadScanHeader()
    {
        int markerOffset = _pos;
        if (NextMarker() != 0xDA)
        {
            ThrowInvalid(markerOffset, "expected SOS marker");
        }

        if (++_scansRead > _options.MaxScans)
        {
            ThrowInvalid(markerOffset, $"more than {_options.MaxScans} scans (raise DecoderOptions.MaxScans to allow more)");
        }

        int length = ReadSegmentLength(markerOffset);
        int start = _pos + 2;
        int ns = length > 2 ? _data[start] : 0;
        if (ns is < 1 or > 4 || ns > _components.Length || length != 6 + (2 * ns))
        {
            ThrowInvalid(markerOffset, $"invalid SOS segment ({ns} components, length {length})");
        }

        int blocksInMcu = 0;
        for (int i = 0; i < ns; i++)
        {
            int id = _data[start + 1 + (2 * i)];
            int tables = _data[start + 2 + (2 * i)];
            Component? comp = null;
            foreach (Component c in _components)
            {
                if (c.Id == id)
                {
                    comp = c;
                }
            }

            if (comp is null)
            {
                ThrowInvalid(markerOffset, $"scan names unknown component id {id}");
            }

            for (int j = 0; j < i; j++)
            {
                if (_scanComponents[j] == comp)
                {
                    ThrowInvalid(markerOffset, $"scan names component id {id} twice");
                }
            }

            int td = tables >> 4, ta = tables & 15;
            if (td > 3 || ta > 3)
            {
                ThrowInvalid(markerOffset, "invalid Huffman table selector in SOS");
            }

            comp.Dc = _dcTables[td];
            comp.Ac = _acTables[ta];
            if (comp.Quant is null)
            {
                ushort[] q = _quant[comp.QuantIndex] ?? ThrowMissingQuant(markerOffset, comp.QuantIndex);
                comp.Quant = new int[64];
                for (int k = 0; k < 64; k++)
                {
                    comp.Quant[k] = q[k];
                }
            }

            _scanComponents[i] = comp;
            blocksInMcu += comp.H * comp.V;
        }

        if (ns > 1 && blocksInMcu > 10)
        {
            ThrowInvalid(markerOffset, $"scan MCU of {blocksInMcu} blocks exceeds the limit of 10");
        }

        _scanCount = ns;
        int p = start + 1 + (2 * ns);
        _ss = _data[p];
        _se = _data[p + 1];
        _ah = _data[p + 2] >> 4;
        _al = _data[p + 2] & 15;
        if (_progressive)
        {
            bool dc = _ss == 0;
            if (_se > 63 || _ss > _se || (dc && _se != 0) || (!dc && ns != 1) || _ah > 13 || _al > 13)
            {
                ThrowInvalid(markerOffset, $"invalid progressive scan parameters Ss={_ss} Se={_se} Ah={_ah} Al={_al}");
            }

            for (int i = 0; i < ns; i++)
            {
                Component c = _scanComponents[i];
                if ((dc && _ah == 0 && c.Dc is null) || (!dc && c.Ac is null))
                {
                    ThrowInvalid(markerOffset, "scan uses a Huffman table that was not defined");
                }
            }
        }
        else
        {
            for (int i = 0; i < ns; i++)
            {
                if (_scanComponents[i].Dc is null || _scanComponents[i].Ac is null)
                {
                    ThrowInvalid(markerOffset, "scan uses a Huffman table that was not defined");
                }
            }
        }

        _pos = start + length - 2;
    }

    [DoesNotReturn]
    private static ushort[] ThrowMissingQuant(int offset, int index)
    {
        ThrowInvalid(offset, $"quantisation table {index} is used but not defined");
        return null;
    }

    /// <summary>
    /// Decodes one row of MCUs of the current scan (for a one-component scan: one row of blocks) into the
    /// coefficient buffers: at row 0 of the buffer when streaming, else at its place in the whole-image store.
    /// </summary>
    private void DecodeMcuRow(int row, bool streaming)
    {
        if (_scanCount == 1)
        {
            Component c = _scanComponents[0];
            int baseBlock = (streaming ? 0 : row) * c.BlocksPerLine;
            fixed (short* coefs = c.Coefficients)
            fixed (byte* eob = c.EobMarks)
            {
                for (int bx = 0; bx < c.WidthInBlocks; bx++)
                {
                    if (_restartInterval > 0)
                    {
                        if (_restartsToGo == 0)
                        {
                            ProcessRestart();
                        }

                        _restartsToGo--;
                    }

                    DecodeBlockAny(c, coefs + ((baseBlock + bx) * 64), eob == null ? null : eob + baseBlock + bx);
                }
            }

            return;
        }

        for (int mx = 0; mx < _mcusX; mx++)
        {
            if (_restartInterval > 0)
            {
                if (_restartsToGo == 0)
                {
                    ProcessRestart();
                }

                _restartsToGo--;
            }

            for (int i = 0; i < _scanCount; i++)
            {
                Component c = _scanComponents[i];
                int firstRow = (streaming ? 0 : row) * c.V;
                fixed (short* coefs = c.Coefficients)
                fixed (byte* eob = c.EobMarks)
                {
                    for (int by = 0; by < c.V; by++)
                    {
                        int block = ((firstRow + by) * c.BlocksPerLine) + (mx * c.H);
                        for (int bx = 0; bx < c.H; bx++)
                        {
                            DecodeBlockAny(c, coefs + ((block + bx) * 64), eob == null ? null : eob + block + bx);
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DecodeBlockAny(Component c, short* block, byte* eob)
    {
        if (!_progressive)
        {
            bool hasAc = DecodeBlockBaseline(c, block);
            if (eob != null)
            {
                *eob = hasAc ? (byte)0 : (byte)1;
            }
        }
        else if (_ss == 0)
        {
            DecodeDcProgressive(c, block);
        }
        else if (_ah == 0)
        {
            DecodeAcFirst(c, block);
        }
        else
        {
            DecodeAcRefine(c, block);
        }
    }

    /// <summary>Decodes one sequential block into a zeroed block (natural order); true when AC codes were seen.</summary>
    private bool DecodeBlockBaseline(Component c, short* block)
    {
        ulong bits = _bits;
        int count = _bitCount;
        HuffmanTable dc = c.Dc!, ac = c.Ac!;
        byte* zigzag = ZigZagTable;

        if (count < 32)
        {
            _bits = bits;
            _bitCount = count;
            Refill();
            bits = _bits;
            count = _bitCount;
        }

        int e = dc.Lookup[(int)(bits >> (64 - HuffmanTable.LookupBits))];
        int s;
        if (e != 0)
        {
            int len = e >> 8;
            bits <<= len;
            count -= len;
            s = e & 0xFF;
        }
        else
        {
            _bits = bits;
            _bitCount = count;
            s = DecodeSlow(dc);
            bits = _bits;
            count = _bitCount;
            if (s < 0)
            {
                ThrowBadCode();
            }
        }

        int pred = c.DcPred;
        if (s != 0)
        {
            s &= 15;
            int v = (int)(bits >> (64 - s));
            bits <<= s;
            count -= s;
            pred += Extend(v, s);
            c.DcPred = pred;
        }

        block[0] = (short)pred;

        ref int fastAc = ref MemoryMarshal.GetArrayDataReference(ac.FastAc);
        int k = 1;
        while (k < 64)
        {
            if (count < 32)
            {
                int pos = _bitPos;
                if (!_atMarker && pos + 8 <= _length)
                {
                    ulong w = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(_data + pos));
                    if (!HasFF(w))
                    {
                        bits |= w >> count;
                        _bitPos = pos + ((63 - count) >> 3);
                        count |= 56;
                        goto Filled;
                    }
                }

                _bits = bits;
                _bitCount = count;
                Refill();
                bits = _bits;
                count = _bitCount;
            }

        Filled:
            int peek = (int)(bits >> (64 - HuffmanTable.LookupBits));
            int fast = Unsafe.Add(ref fastAc, peek);
            if (fast != 0)
            {
                int len = fast & 0xFF;
                bits <<= len;
                count -= len;
                k += (fast >> 8) & 15;
                block[zigzag[k]] = (short)(fast >> 16);
                k++;
                continue;
            }

            e = Unsafe.Add(ref fastAc, peek + HuffmanTable.LookupSize);
            int rs;
            if (e != 0)
            {
                int len = e >> 8;
                bits <<= len;
                count -= len;
                rs = e & 0xFF;
            }
            else
            {
                _bits = bits;
                _bitCount = count;
                rs = DecodeSlow(ac);
                bits = _bits;
                count = _bitCount;
                if (rs < 0)
                {
                    ThrowBadCode();
                }
            }

            s = rs & 15;
            int r = rs >> 4;
            if (s == 0)
            {
                if (r != 15)
                {
                    break;
                }

                k += 16;
                continue;
            }

            k += r;
            int value = (int)(bits >> (64 - s));
            bits <<= s;
            count -= s;
            block[zigzag[k]] = (short)Extend(value, s);
            k++;
        }

        _bits = bits;
        _bitCount = count;
        return k > 1;
    }

    // ---- Shared small bit helpers for the progressive decoder (state in fields) ----------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureBits()
    {
        if (_bitCount < 32)
        {
            Refill();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int DecodeSymbol(HuffmanTable table)
    {
        EnsureBits();
        int e = table.Lookup[(int)(_bits >> (64 - HuffmanTable.LookupBits))];
        if (e != 0)
        {
            int len = e >> 8;
            _bits <<= len;
            _bitCount -= len;
            return e & 0xFF;
        }

        int s = DecodeSlow(table);
        if (s < 0)
        {
            ThrowBadCode();
        }

        return s;
    }

    /// <summary>Reads <paramref name="n"/> (0..16) raw bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadBits(int n)
    {
        if (n == 0)
        {
            return 0;
        }

        EnsureBits();
        int v = (int)(_bits >> (64 - n));
        _bits <<= n;
        _bitCount -= n;
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadBit()
    {
        EnsureBits();
        int v = (int)(_bits >> 63);
        _bits <<= 1;
        _bitCount--;
        return v;
    }

    private void AllocateCoefficients(bool streaming)
    {
        foreach (Component c in _components)
        {
            int blocks = c.BlocksPerLine * (streaming ? c.V : c.BlocksPerColumn);
            c.Coefficients = PixelBufferPool.Rent<short>(blocks * 64, clear: !streaming);
            if (streaming)
            {
                c.EobMarks = PixelBufferPool.Rent<byte>(blocks, clear: true);
            }
        }
    }
}

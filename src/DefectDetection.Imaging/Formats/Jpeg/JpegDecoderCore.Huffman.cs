using System.Diagnostics.CodeAnalysis;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// Entropy-coded data: a 64-bit MSB-first bit buffer over the pinned input that removes byte stuffing, stops at
/// markers and then feeds zero bits, counting them (<see cref="_fakeBits"/>) so that a scan that consumes bits
/// that are not in the file is reported as truncated instead of being returned as if complete.
/// </summary>
internal sealed unsafe partial class JpegDecoderCore
{
    private ulong _bits;
    private int _bitCount;
    private int _bitPos;
    private int _fakeBits;
    private bool _atMarker;

    private void StartEntropyData(int position)
    {
        _bits = 0;
        _bitCount = 0;
        _bitPos = position;
        _fakeBits = 0;
        _atMarker = false;
    }

    /// <summary>
    /// True when the decoder has consumed zero bits that were fed in past a marker or the end of data - except
    /// at an RSTn marker, where the damaged restart interval is left as decoded (zeros) and decoding resumes
    /// in sync at the marker, as libjpeg does.
    /// </summary>
    private bool ConsumedPastEnd => _bitCount < _fakeBits && !(_restartInterval > 0 && AtRestartMarker());

    private bool AtRestartMarker()
    {
        int q = _bitPos;
        while (q < _length && _data[q] == 0xFF)
        {
            q++;
        }

        return q > _bitPos && q < _length && _data[q] is >= 0xD0 and <= 0xD7;
    }

    /// <summary>Fills <see cref="_bits"/> to at least 57 valid bits (real or, at a marker, zero).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Refill()
    {
        ulong bits = _bits;
        int count = _bitCount;
        int pos = _bitPos;
        if (!_atMarker && pos + 8 <= _length)
        {
            ulong w = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(_data + pos));
            if (!HasFF(w))
            {
                _bits = bits | (w >> count);
                _bitPos = pos + ((63 - count) >> 3);
                _bitCount = count | 56;
                return;
            }
        }

        while (count <= 56)
        {
            int b = 0;
            if (_atMarker || pos >= _length)
            {
                _atMarker = true;
                _fakeBits += 8;
            }
            else
            {
                b = _data[pos];
                if (b != 0xFF)
                {
                    pos++;
                }
                else
                {
                    int q = pos + 1;
                    while (q < _length && _data[q] == 0xFF)
                    {
                        q++;
                    }

                    if (q < _length && _data[q] == 0)
                    {
                        pos = q + 1;
                    }
                    else
                    {
                        // A marker (or the end of the data): leave pos on its first 0xFF.
                        pos = q - 1;
                        b = 0;
                        _atMarker = true;
                        _fakeBits += 8;
                    }
                }
            }

            bits |= (ulong)(uint)b << (56 - count);
            count += 8;
        }

        _bits = bits;
        _bitCount = count;
        _bitPos = pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HasFF(ulong w)
    {
        ulong inv = ~w;
        return ((inv - 0x0101010101010101UL) & ~inv & 0x8080808080808080UL) != 0;
    }

    /// <summary>
    /// At a restart point: drops the rest of the current byte, finds the next marker and consumes it if it is an
    /// RSTn. Any other marker (or the end) is left in place; the bits that follow are zeros, so a scan that
    /// still needs data ends as truncated.
    /// </summary>
    private void ProcessRestart()
    {
        int pos = _bitPos;
        while (pos < _length)
        {
            if (_data[pos] == 0xFF)
            {
                int q = pos + 1;
                while (q < _length && _data[q] == 0xFF)
                {
                    q++;
                }

                if (q >= _length)
                {
                    pos = _length;
                    break;
                }

                if (_data[q] != 0)
                {
                    if (_data[q] is >= 0xD0 and <= 0xD7)
                    {
                        pos = q + 1;
                        StartEntropyData(pos);
                    }
                    else
                    {
                        StartEntropyData(pos);
                        _atMarker = true;
                    }

                    ResetScanPredictors();
                    return;
                }

                pos = q + 1;
                continue;
            }

            pos++;
        }

        StartEntropyData(pos);
        _atMarker = true;
        ResetScanPredictors();
    }

    private void ResetScanPredictors()
    {
        foreach (Component c in _components)
        {
            c.DcPred = 0;
        }

        _eobRun = 0;
        _restartsToGo = _restartInterval;
    }

    /// <summary>
    /// Decodes one Huffman symbol the slow way (codes longer than the lookup) from the bit buffer fields, or -1
    /// for an invalid code.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int DecodeSlow(HuffmanTable table)
    {
        int code16 = (int)(_bits >> 48);
        for (int l = HuffmanTable.LookupBits + 1; l <= 16; l++)
        {
            int code = code16 >> (16 - l);
            if (code <= table.MaxCode[l])
            {
                _bits <<= l;
                _bitCount -= l;
                return table.Values[(code + table.ValOffset[l]) & 0xFF];
            }
        }

        return -1;
    }

    [DoesNotReturn]
    private void ThrowBadCode() => ThrowInvalid(_bitPos, "corrupt entropy-coded data (invalid Huffman code)");

    /// <summary>Sign-extends a <paramref name="s"/>-bit magnitude as in JPEG's EXTEND.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Extend(int v, int s) => v + (((v >> (s - 1)) - 1) & ((-1 << s) + 1));
}

/// <summary>A Huffman table with a 9-bit first-level lookup and, for AC tables, a combined run/value lookup.</summary>
internal sealed class HuffmanTable
{
    public const int LookupBits = 9;
    public const int LookupSize = 1 << LookupBits;

    /// <summary>(code length &lt;&lt; 8) | symbol for codes of at most 9 bits; 0 for longer codes.</summary>
    public readonly ushort[] Lookup = new ushort[1 << LookupBits];

    /// <summary>
    /// AC tables: (coefficient &lt;&lt; 16) | (run &lt;&lt; 8) | (code length + magnitude bits) when a code and its
    /// magnitude bits both fit in the 9-bit peek; 0 otherwise. Followed by a copy of <see cref="Lookup"/> (at
    /// <see cref="LookupSize"/>) so that the hot loop needs one base register for both.
    /// </summary>
    public readonly int[] FastAc = new int[2 << LookupBits];

    /// <summary>Largest code of each length (1..16), -1 when none; index 17 is a sentinel.</summary>
    public readonly int[] MaxCode = new int[18];

    /// <summary>Added to a code of each length to find its symbol in <see cref="Values"/>.</summary>
    public readonly int[] ValOffset = new int[18];

    public readonly byte[] Values = new byte[256];

    /// <summary>Builds the table from the DHT counts and symbols; false when the code lengths overflow.</summary>
    public bool Build(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols, bool isAc)
    {
        symbols.CopyTo(Values);
        int code = 0, k = 0;
        for (int l = 1; l <= 16; l++)
        {
            int n = counts[l - 1];
            ValOffset[l] = k - code;
            if (n > 0)
            {
                for (int i = 0; i < n; i++, code++, k++)
                {
                    if (code >= 1 << l)
                    {
                        return false;
                    }

                    if (l <= LookupBits)
                    {
                        int shift = LookupBits - l;
                        int first = code << shift;
                        ushort entry = (ushort)((l << 8) | symbols[k]);
                        for (int j = 0; j < 1 << shift; j++)
                        {
                            Lookup[first + j] = entry;
                        }
                    }
                }

                MaxCode[l] = code - 1;
            }
            else
            {
                MaxCode[l] = -1;
            }

            code <<= 1;
        }

        MaxCode[17] = int.MaxValue;
        if (isAc)
        {
            for (int peek = 0; peek < 1 << LookupBits; peek++)
            {
                int e = Lookup[peek];
                FastAc[LookupSize + peek] = e;
                if (e == 0)
                {
                    continue;
                }

                int len = e >> 8, rs = e & 0xFF, run = rs >> 4, s = rs & 15;
                if (s == 0 || len + s > LookupBits)
                {
                    continue;
                }

                int v = (peek >> (LookupBits - len - s)) & ((1 << s) - 1);
                if (v < 1 << (s - 1))
                {
                    v -= (1 << s) - 1;
                }

                FastAc[peek] = (v << 16) | (run << 8) | (len + s);
            }
        }

        return true;
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// Progressive Huffman decoding (ITU T.81 G.1.2): DC first and refinement scans, AC spectral-selection first
/// scans with end-of-band runs, and AC successive-approximation refinement scans. Progressive coefficients are
/// kept in zig-zag order (so that refinement can find the non-zero ones with a vector compare) and put in
/// natural order just before the IDCT.
/// </summary>
internal sealed unsafe partial class JpegDecoderCore
{
    private void DecodeDcProgressive(Component c, short* block)
    {
        if (_ah == 0)
        {
            int s = DecodeSymbol(c.Dc!) & 15;
            int diff = s == 0 ? 0 : Extend(ReadBits(s), s);
            c.DcPred += diff;
            block[0] = (short)(c.DcPred << _al);
        }
        else if (ReadBit() != 0)
        {
            block[0] |= (short)(1 << _al);
        }
    }

    /// <summary>Bit k set when coefficient k (zig-zag order) of the block is non-zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NonZeroMask(short* block)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            ulong m0 = Vector256.ExtractMostSignificantBits(Vector256.Equals(Vector256.Load(block), Vector256<short>.Zero));
            ulong m1 = Vector256.ExtractMostSignificantBits(Vector256.Equals(Vector256.Load(block + 16), Vector256<short>.Zero));
            ulong m2 = Vector256.ExtractMostSignificantBits(Vector256.Equals(Vector256.Load(block + 32), Vector256<short>.Zero));
            ulong m3 = Vector256.ExtractMostSignificantBits(Vector256.Equals(Vector256.Load(block + 48), Vector256<short>.Zero));
            return ~(m0 | (m1 << 16) | (m2 << 32) | (m3 << 48));
        }

        ulong mask = 0;
        for (int i = 0; i < 64; i++)
        {
            if (block[i] != 0)
            {
                mask |= 1UL << i;
            }
        }

        return mask;
    }

    private void DecodeAcFirst(Component c, short* block)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }

        HuffmanTable ac = c.Ac!;
        ref ushort lookup = ref MemoryMarshal.GetArrayDataReference(ac.Lookup);
        int al = _al, se = _se;
        ulong bits = _bits;
        int count = _bitCount;
        for (int k = _ss; k <= se; k++)
        {
            if (count < 32)
            {
                _bits = bits;
                _bitCount = count;
                Refill();
                bits = _bits;
                count = _bitCount;
            }

            int e = Unsafe.Add(ref lookup, (int)(bits >> (64 - HuffmanTable.LookupBits)));
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

            int r = rs >> 4, s = rs & 15;
            if (s != 0)
            {
                k += r;
                if (k > 63)
                {
                    ThrowInvalid(_bitPos, "corrupt progressive AC data (run past the end of the block)");
                }

                int v = (int)(bits >> (64 - s));
                bits <<= s;
                count -= s;
                block[k] = (short)(Extend(v, s) * (1 << al));
            }
            else if (r == 15)
            {
                k += 15;
            }
            else
            {
                int run = 1 << r;
                if (r != 0)
                {
                    run += (int)(bits >> (64 - r));
                    bits <<= r;
                    count -= r;
                }

                _eobRun = run - 1;
                break;
            }
        }

        _bits = bits;
        _bitCount = count;
    }

    private void DecodeAcRefine(Component c, short* block)
    {
        int p1 = 1 << _al, m1 = -1 << _al;
        int k = _ss, se = _se;
        HuffmanTable ac = c.Ac!;
        ref ushort lookup = ref MemoryMarshal.GetArrayDataReference(ac.Lookup);
        ulong bits = _bits;
        int count = _bitCount;
        int eobRun = _eobRun;
        if (eobRun == 0)
        {
            for (; k <= se; k++)
            {
                if (count < 32)
                {
                    _bits = bits;
                    _bitCount = count;
                    Refill();
                    bits = _bits;
                    count = _bitCount;
                }

                int e = Unsafe.Add(ref lookup, (int)(bits >> (64 - HuffmanTable.LookupBits)));
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

                int r = rs >> 4, s = rs & 15;
                if (s != 0)
                {
                    // s must be 1; anything else is corrupt but handled like libjpeg (as 1).
                    s = (long)bits < 0 ? p1 : m1;
                    bits <<= 1;
                    count--;
                }
                else if (r != 15)
                {
                    eobRun = 1 << r;
                    if (r != 0)
                    {
                        eobRun += (int)(bits >> (64 - r));
                        bits <<= r;
                        count -= r;
                    }

                    break;
                }

                do
                {
                    short* coef = block + k;
                    if (*coef != 0)
                    {
                        if (count == 0)
                        {
                            _bits = bits;
                            _bitCount = count;
                            Refill();
                            bits = _bits;
                            count = _bitCount;
                        }

                        bool bit = (long)bits < 0;
                        bits <<= 1;
                        count--;
                        if (bit && (*coef & p1) == 0)
                        {
                            *coef = (short)(*coef >= 0 ? *coef + p1 : *coef + m1);
                        }
                    }
                    else if (--r < 0)
                    {
                        break;
                    }

                    k++;
                }
                while (k <= se);

                if (s != 0)
                {
                    if (k > 63)
                    {
                        ThrowInvalid(_bitPos, "corrupt progressive refinement data (run past the end of the block)");
                    }

                    block[k] = (short)s;
                }
            }
        }

        if (eobRun > 0)
        {
            // Only the coefficients already non-zero get a correction bit: visit them through a bit mask.
            ulong mask = NonZeroMask(block) & (ulong.MaxValue << Math.Min(k, 63)) & (se == 63 ? ulong.MaxValue : (1UL << (se + 1)) - 1);
            if (k > se)
            {
                mask = 0;
            }

            while (mask != 0)
            {
                short* coef = block + BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                if (count == 0)
                {
                    _bits = bits;
                    _bitCount = count;
                    Refill();
                    bits = _bits;
                    count = _bitCount;
                }

                bool bit = (long)bits < 0;
                bits <<= 1;
                count--;
                if (bit && (*coef & p1) == 0)
                {
                    *coef = (short)(*coef >= 0 ? *coef + p1 : *coef + m1);
                }
            }

            eobRun--;
        }

        _bits = bits;
        _bitCount = count;
        _eobRun = eobRun;
    }
}

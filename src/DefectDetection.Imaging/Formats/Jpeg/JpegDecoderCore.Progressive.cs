using System.Runtime.InteropServices;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// Progressive Huffman decoding (ITU T.81 G.1.2): DC first and refinement scans, AC spectral-selection first
/// scans with end-of-band runs, and AC successive-approximation refinement scans.
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

    private void DecodeAcFirst(Component c, short* block)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }

        ref byte zigzag = ref MemoryMarshal.GetReference(ZigZag);
        HuffmanTable ac = c.Ac!;
        for (int k = _ss; k <= _se; k++)
        {
            int rs = DecodeSymbol(ac);
            int r = rs >> 4, s = rs & 15;
            if (s != 0)
            {
                k += r;
                if (k > 63)
                {
                    ThrowInvalid(_bitPos, "corrupt progressive AC data (run past the end of the block)");
                }

                block[System.Runtime.CompilerServices.Unsafe.Add(ref zigzag, k)] = (short)(Extend(ReadBits(s), s) * (1 << _al));
            }
            else if (r == 15)
            {
                k += 15;
            }
            else
            {
                _eobRun = 1 << r;
                if (r != 0)
                {
                    _eobRun += ReadBits(r);
                }

                _eobRun--;
                break;
            }
        }
    }

    private void DecodeAcRefine(Component c, short* block)
    {
        ref byte zigzag = ref MemoryMarshal.GetReference(ZigZag);
        int p1 = 1 << _al, m1 = -1 << _al;
        int k = _ss, se = _se;
        HuffmanTable ac = c.Ac!;
        if (_eobRun == 0)
        {
            for (; k <= se; k++)
            {
                int rs = DecodeSymbol(ac);
                int r = rs >> 4, s = rs & 15;
                if (s != 0)
                {
                    // s must be 1; anything else is corrupt but handled like libjpeg (as 1).
                    s = ReadBit() != 0 ? p1 : m1;
                }
                else if (r != 15)
                {
                    _eobRun = 1 << r;
                    if (r != 0)
                    {
                        _eobRun += ReadBits(r);
                    }

                    break;
                }

                do
                {
                    short* coef = block + System.Runtime.CompilerServices.Unsafe.Add(ref zigzag, k);
                    if (*coef != 0)
                    {
                        if (ReadBit() != 0 && (*coef & p1) == 0)
                        {
                            *coef = (short)(*coef >= 0 ? *coef + p1 : *coef + m1);
                        }
                    }
                    else
                    {
                        if (--r < 0)
                        {
                            break;
                        }
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

                    block[System.Runtime.CompilerServices.Unsafe.Add(ref zigzag, k)] = (short)s;
                }
            }
        }

        if (_eobRun > 0)
        {
            for (; k <= se; k++)
            {
                short* coef = block + System.Runtime.CompilerServices.Unsafe.Add(ref zigzag, k);
                if (*coef != 0 && ReadBit() != 0 && (*coef & p1) == 0)
                {
                    *coef = (short)(*coef >= 0 ? *coef + p1 : *coef + m1);
                }
            }

            _eobRun--;
        }
    }
}

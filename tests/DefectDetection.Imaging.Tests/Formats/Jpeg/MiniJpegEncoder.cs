namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary>
/// A deliberately small baseline JPEG encoder for fixtures that cjpeg cannot write (CMYK/YCCK with an Adobe
/// marker, arbitrary per-component sampling). Naive float DCT, flat Huffman tables (every DC category a 4-bit
/// code, every AC symbol an 8-bit code), optional restart interval. Samples of each component are given at
/// its own (downsampled) resolution.
/// </summary>
internal static class MiniJpegEncoder
{
    public sealed record Component(int Id, int H, int V, byte[] Samples, int Width, int Height);

    public static byte[] Encode(int width, int height, IReadOnlyList<Component> components, int? adobeTransform, int quality = 2, int restartInterval = 0)
    {
        var output = new List<byte> { 0xFF, 0xD8 };
        if (adobeTransform is int t)
        {
            // APP14 "Adobe": version 100, flags0, flags1, transform.
            Segment(output, 0xEE, [(byte)'A', (byte)'d', (byte)'o', (byte)'b', (byte)'e', 0, 100, 0, 0, 0, 0, (byte)t]);
        }

        byte[] quant = new byte[65];
        quant[0] = 0;
        for (int i = 1; i < 65; i++)
        {
            quant[i] = (byte)Math.Clamp(quality + (i / 8), 1, 255);
        }

        Segment(output, 0xDB, quant);
        int hmax = components.Max(c => c.H), vmax = components.Max(c => c.V);
        var sof = new List<byte> { 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)components.Count };
        foreach (Component c in components)
        {
            sof.AddRange([(byte)c.Id, (byte)((c.H << 4) | c.V), 0]);
        }

        Segment(output, 0xC0, [.. sof]);

        // Flat tables: DC categories 0..11 with 4-bit codes; AC: EOB, ZRL and all run/size pairs with 8-bit codes.
        byte[] dcSymbols = Enumerable.Range(0, 12).Select(i => (byte)i).ToArray();
        var acSymbols = new List<byte> { 0x00, 0xF0 };
        for (int r = 0; r < 16; r++)
        {
            for (int s = 1; s <= 10; s++)
            {
                acSymbols.Add((byte)((r << 4) | s));
            }
        }

        var dht = new List<byte> { 0x00 };
        dht.AddRange(Counts(4, dcSymbols.Length));
        dht.AddRange(dcSymbols);
        dht.Add(0x10);
        dht.AddRange(Counts(8, acSymbols.Count));
        dht.AddRange(acSymbols);
        Segment(output, 0xC4, [.. dht]);
        if (restartInterval > 0)
        {
            Segment(output, 0xDD, [(byte)(restartInterval >> 8), (byte)restartInterval]);
        }

        var sos = new List<byte> { (byte)components.Count };
        foreach (Component c in components)
        {
            sos.AddRange([(byte)c.Id, 0x00]);
        }

        sos.AddRange([0, 63, 0]);
        Segment(output, 0xDA, [.. sos]);

        var writer = new BitWriter(output);
        int mcusX = (width + (8 * hmax) - 1) / (8 * hmax), mcusY = (height + (8 * vmax) - 1) / (8 * vmax);
        int[] preds = new int[components.Count];
        double[] block = new double[64];
        int[] coefs = new int[64];
        int mcu = 0, rst = 0;
        for (int my = 0; my < mcusY; my++)
        {
            for (int mx = 0; mx < mcusX; mx++)
            {
                if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0)
                {
                    writer.Flush();
                    output.AddRange([0xFF, (byte)(0xD0 + (rst++ & 7))]);
                    Array.Clear(preds);
                }

                mcu++;
                for (int ci = 0; ci < components.Count; ci++)
                {
                    Component c = components[ci];
                    for (int by = 0; by < c.V; by++)
                    {
                        for (int bx = 0; bx < c.H; bx++)
                        {
                            int x0 = ((mx * c.H) + bx) * 8, y0 = ((my * c.V) + by) * 8;
                            for (int y = 0; y < 8; y++)
                            {
                                for (int x = 0; x < 8; x++)
                                {
                                    int sx = Math.Min(x0 + x, c.Width - 1), sy = Math.Min(y0 + y, c.Height - 1);
                                    block[(y * 8) + x] = c.Samples[(sy * c.Width) + sx] - 128.0;
                                }
                            }

                            ForwardDct(block, coefs, quant);
                            EncodeBlock(writer, coefs, ref preds[ci]);
                        }
                    }
                }
            }
        }

        writer.Flush();
        output.AddRange([0xFF, 0xD9]);
        return [.. output];
    }

    /// <summary>
    /// An 8x8 gray progressive file of one DC scan (DC 64: every pixel 136) followed by <paramref name="acScans"/>
    /// identical empty AC scans (one end-of-band each), with the offset of every SOS marker.
    /// </summary>
    public static (byte[] Data, int[] ScanOffsets) ProgressiveGrayWithEmptyScans(int acScans)
    {
        var output = new List<byte> { 0xFF, 0xD8 };
        Segment(output, 0xDB, [0, .. Enumerable.Repeat((byte)1, 64)]);
        Segment(output, 0xC2, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]);

        // One 1-bit code per table: DC category 7, AC end-of-band.
        Segment(output, 0xC4, [0x00, .. Counts(1, 1), 7, 0x10, .. Counts(1, 1), 0x00]);
        var offsets = new List<int>();
        void Scan(byte ss, byte se, byte data)
        {
            offsets.Add(output.Count);
            Segment(output, 0xDA, [1, 1, 0x00, ss, se, 0x00]);
            output.Add(data);
        }

        Scan(0, 0, 0b0100_0000); // code 0 (category 7), then 1000000 = +64
        for (int i = 0; i < acScans; i++)
        {
            Scan(1, 63, 0b0111_1111); // code 0 (end of band), padded with ones
        }

        output.AddRange([0xFF, 0xD9]);
        return ([.. output], [.. offsets]);
    }

    private static byte[] Counts(int length, int n)
    {
        byte[] counts = new byte[16];
        counts[length - 1] = (byte)n;
        return counts;
    }

    private static void Segment(List<byte> output, int marker, byte[] payload)
    {
        output.AddRange([0xFF, (byte)marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        output.AddRange(payload);
    }

    private static void ForwardDct(double[] block, int[] coefs, byte[] quant)
    {
        for (int v = 0; v < 8; v++)
        {
            for (int u = 0; u < 8; u++)
            {
                double sum = 0;
                for (int y = 0; y < 8; y++)
                {
                    for (int x = 0; x < 8; x++)
                    {
                        sum += block[(y * 8) + x] * Math.Cos(((2 * x) + 1) * u * Math.PI / 16) * Math.Cos(((2 * y) + 1) * v * Math.PI / 16);
                    }
                }

                double cu = u == 0 ? Math.Sqrt(0.5) : 1, cv = v == 0 ? Math.Sqrt(0.5) : 1;
                int natural = (v * 8) + u;
                int zz = Array.IndexOf(ZigZagToNatural, natural);
                coefs[zz] = (int)Math.Round(0.25 * cu * cv * sum / quant[1 + zz]);
            }
        }
    }

    private static void EncodeBlock(BitWriter w, int[] zz, ref int pred)
    {
        int diff = zz[0] - pred;
        pred = zz[0];
        int s = Category(diff);
        w.Write(s, 4); // DC code: the category as a 4-bit canonical code (codes 0..11)
        if (s > 0)
        {
            w.Write(diff < 0 ? diff + (1 << s) - 1 : diff, s);
        }

        int run = 0;
        for (int k = 1; k < 64; k++)
        {
            int v = zz[k];
            if (v == 0)
            {
                run++;
                continue;
            }

            while (run > 15)
            {
                w.Write(AcCode(0xF0), 8);
                run -= 16;
            }

            int size = Category(v);
            w.Write(AcCode((run << 4) | size), 8);
            w.Write(v < 0 ? v + (1 << size) - 1 : v, size);
            run = 0;
        }

        if (run > 0)
        {
            w.Write(AcCode(0x00), 8);
        }
    }

    // Canonical 8-bit codes in symbol order: EOB = 0, ZRL = 1, then (r, s) = 2 + r*10 + (s-1).
    private static int AcCode(int rs) => rs == 0x00 ? 0 : rs == 0xF0 ? 1 : 2 + ((rs >> 4) * 10) + ((rs & 15) - 1);

    private static int Category(int v)
    {
        v = Math.Abs(v);
        int s = 0;
        while (v > 0)
        {
            s++;
            v >>= 1;
        }

        return s;
    }

    private static readonly int[] ZigZagToNatural =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    private sealed class BitWriter(List<byte> output)
    {
        private int _acc;
        private int _n;

        public void Write(int value, int bits)
        {
            for (int i = bits - 1; i >= 0; i--)
            {
                _acc = (_acc << 1) | ((value >> i) & 1);
                if (++_n == 8)
                {
                    Emit();
                }
            }
        }

        public void Flush()
        {
            while (_n != 0)
            {
                _acc = (_acc << 1) | 1;
                if (++_n == 8)
                {
                    Emit();
                }
            }
        }

        private void Emit()
        {
            output.Add((byte)_acc);
            if (_acc == 0xFF)
            {
                output.Add(0);
            }

            _acc = 0;
            _n = 0;
        }
    }
}

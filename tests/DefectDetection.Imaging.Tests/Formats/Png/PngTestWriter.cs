using System.IO.Compression;

namespace DefectDetection.Imaging.Tests.Formats.Png;

/// <summary>
/// A deliberately plain PNG writer for tests, independent of the library's encoder: any colour type and bit
/// depth, optional PLTE/tRNS, Adam7, filter types cycling row by row (all five used), IDAT split in pieces,
/// and a bitwise CRC. Samples are given at full bit depth, <c>SamplesPerPixel</c> per pixel, row-major.
/// </summary>
internal static class PngTestWriter
{
    public static byte[] Write(int width, int height, int colorType, int depth, int[] samples,
        byte[]? palette = null, byte[]? trns = null, bool interlace = false, int idatPieces = 3)
    {
        int spp = colorType switch { 0 or 3 => 1, 4 => 2, 2 => 3, _ => 4 };
        using MemoryStream raw = new();
        int filterCycle = 0;
        int[][] passes = interlace
            ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
            : [[0, 0, 1, 1]];
        foreach (int[] p in passes)
        {
            int pw = (width - p[0] + p[2] - 1) / p[2];
            int ph = (height - p[1] + p[3] - 1) / p[3];
            if (pw <= 0 || ph <= 0)
            {
                continue;
            }

            int rowBytes = ((pw * spp * depth) + 7) / 8;
            int bpp = Math.Max(1, spp * depth / 8);
            byte[] prev = new byte[rowBytes];
            for (int r = 0; r < ph; r++)
            {
                byte[] row = new byte[rowBytes];
                int y = p[1] + (r * p[3]);
                for (int i = 0; i < pw; i++)
                {
                    int x = p[0] + (i * p[2]);
                    for (int c = 0; c < spp; c++)
                    {
                        int v = samples[(((y * width) + x) * spp) + c];
                        int index = (i * spp) + c;
                        if (depth == 16)
                        {
                            row[2 * index] = (byte)(v >> 8);
                            row[(2 * index) + 1] = (byte)v;
                        }
                        else if (depth == 8)
                        {
                            row[index] = (byte)v;
                        }
                        else
                        {
                            int bit = index * depth;
                            row[bit / 8] |= (byte)(v << (8 - depth - (bit % 8)));
                        }
                    }
                }

                int filter = filterCycle++ % 5;
                raw.WriteByte((byte)filter);
                for (int i = 0; i < rowBytes; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0;
                    int b = prev[i];
                    int cc = i >= bpp ? prev[i - bpp] : 0;
                    int pred = filter switch
                    {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => (a + b) / 2,
                        _ => Paeth(a, b, cc),
                    };
                    raw.WriteByte((byte)(row[i] - pred));
                }

                prev = row;
            }
        }

        byte[] compressed;
        using (MemoryStream z = new())
        {
            using (ZLibStream zs = new(z, CompressionLevel.Optimal, leaveOpen: true))
            {
                zs.Write(raw.ToArray());
            }

            compressed = z.ToArray();
        }

        using MemoryStream png = new();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        byte[] ihdr = new byte[13];
        BE(ihdr, 0, (uint)width);
        BE(ihdr, 4, (uint)height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlace ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "tEXt", "Comment\0test fixture"u8.ToArray());
        if (palette is not null)
        {
            Chunk(png, "PLTE", palette);
        }

        if (trns is not null)
        {
            Chunk(png, "tRNS", trns);
        }

        int piece = Math.Max(1, (compressed.Length + idatPieces - 1) / idatPieces);
        for (int off = 0; off < compressed.Length; off += piece)
        {
            Chunk(png, "IDAT", compressed.AsSpan(off, Math.Min(piece, compressed.Length - off)).ToArray());
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void Chunk(Stream s, string type, byte[] data)
    {
        byte[] head = new byte[8];
        BE(head, 0, (uint)data.Length);
        for (int i = 0; i < 4; i++)
        {
            head[4 + i] = (byte)type[i];
        }

        s.Write(head);
        s.Write(data);
        byte[] crcInput = [.. head.AsSpan(4), .. data];
        byte[] crc = new byte[4];
        BE(crc, 0, BitwiseCrc(crcInput));
        s.Write(crc);
    }

    /// <summary>The CRC-32 of PNG computed bit by bit from its definition.</summary>
    public static uint BitwiseCrc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320 : c >> 1;
            }
        }

        return ~c;
    }

    public static void BE(byte[] b, int off, uint v)
    {
        b[off] = (byte)(v >> 24);
        b[off + 1] = (byte)(v >> 16);
        b[off + 2] = (byte)(v >> 8);
        b[off + 3] = (byte)v;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}

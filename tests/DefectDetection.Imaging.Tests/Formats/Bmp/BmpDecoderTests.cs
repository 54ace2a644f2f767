using System.Buffers.Binary;
using System.Text;
using DefectDetection.Imaging.Formats.Bmp;
using DefectDetection.Imaging.Formats.Pnm;

namespace DefectDetection.Imaging.Tests.Formats.Bmp;

public sealed class BmpDecoderTests
{
    public static TheoryData<string, bool> Cases()
    {
        TheoryData<string, bool> data = [];
        foreach (string kind in new[] { "pal1", "pal4", "pal8", "gray8", "rgb16", "bf16-565", "rgb24", "rgb32", "bf32", "bf32-alpha-v5" })
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodesCraftedBitmapsToTheKnownPixels(string kind, bool topDown)
    {
        foreach ((int w, int h) in new[] { (1, 1), (7, 5), (33, 4) })
        {
            Crafted c = Crafted.Create(kind, w, h, topDown, seed: w + h);
            using Image image = new BmpDecoder().Decode(c.Bmp);
            Assert.Equal((w, h), (image.Width, image.Height));
            Assert.Equal(c.ExpectedFormat, image.PixelFormat);
            Pixels.AssertEqualRgba(c.ExpectedRgba, Pixels.ToRgba(image), w, $"{kind} {w}x{h}");
            ImageInfo info = new BmpDecoder().Identify(c.Bmp);
            Assert.Equal((w, h, c.ExpectedFormat), (info.Width, info.Height, info.PixelFormat));
            Assert.Contains(topDown ? "top-down" : "bottom-up", info.Details);
        }
    }

    [NetpbmTheory]
    [InlineData("pal1", false)]
    [InlineData("pal4", true)]
    [InlineData("pal8", false)]
    [InlineData("gray8", false)]
    [InlineData("rgb24", false)]
    [InlineData("rgb24", true)]
    [InlineData("rgb32", false)]
    public void CraftedBitmapsDecodeIdenticallyWithBmptopnm(string kind, bool topDown)
    {
        // Checks the crafted files and the expected pixels against Netpbm's independent reader.
        Crafted c = Crafted.Create(kind, 33, 4, topDown, seed: 3);
        PamImage reference = Netpbm.ParsePam(Netpbm.Run("bmptopnm", string.Empty, c.Bmp));
        Pixels.AssertEqualRgba(c.ExpectedRgba, reference.ToRgba(), 33, "bmptopnm");
    }

    [NetpbmTheory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(24)]
    public void BitmapsWrittenByPpmtobmpDecodeToTheirSource(int bpp)
    {
        // A PPM with few enough colours for the palette depth, written by Netpbm, must come back unchanged.
        int colours = bpp >= 24 ? 256 * 256 : 1 << bpp;
        using Image source = Image.Create(37, 11, PixelFormat.Rgb24);
        Random rng = new(bpp);
        byte[][] palette = Enumerable.Range(0, Math.Min(colours, 200)).Select(_ => new[] { (byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256) }).ToArray();
        for (int i = 0; i < 37 * 11; i++)
        {
            byte[] p = bpp >= 24 ? [(byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)] : palette[rng.Next(palette.Length)];
            p.CopyTo(source.Pixels.Slice(3 * i, 3));
        }

        using MemoryStream ppm = new();
        new PnmEncoder().Encode(source, ppm);
        byte[] bmp = Netpbm.Run("ppmtobmp", $"-bpp={bpp}", ppm.ToArray());
        using Image decoded = new BmpDecoder().Decode(bmp);
        Pixels.AssertEqualRgba(Pixels.ToRgba(source), Pixels.ToRgba(decoded), 37, $"ppmtobmp -bpp={bpp}");
    }

    [Fact]
    public void RleIsRejectedClearly()
    {
        byte[] bmp = Crafted.Create("pal8", 4, 4, false, 1).Bmp;
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(30), 1);
        InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => new BmpDecoder().Decode(bmp));
        Assert.Contains("RLE", ex.Reason);
        Assert.Equal(ImageFormat.Bmp, ex.Format);
    }

    [Fact]
    public void TruncationsAndCorruptionsEndInTheDomainException()
    {
        Random rng = new(11);
        foreach (string kind in new[] { "pal4", "pal8", "rgb24", "bf32-alpha-v5" })
        {
            byte[] good = Crafted.Create(kind, 13, 9, false, 2).Bmp;
            // Cuts inside the last row's padding are tolerated (some writers omit it); all others must fail.
            for (int cut = 0; cut < good.Length - 4; cut += 7)
            {
                Assert.Throws<InvalidImageContentException>(() => new BmpDecoder().Decode(good[..cut]));
            }

            for (int k = 0; k < 300; k++)
            {
                byte[] bad = (byte[])good.Clone();
                int at = rng.Next(Math.Min(bad.Length, 160));
                bad[at] = (byte)rng.Next(256);
                try
                {
                    using Image image = new BmpDecoder().Decode(bad);
                }
                catch (InvalidImageContentException)
                {
                }
            }
        }
    }

    [Fact]
    public void AbsurdDimensionsAreRejectedBeforeAllocating()
    {
        byte[] bmp = Crafted.Create("rgb24", 2, 2, false, 1).Bmp;
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 1_000_000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), -1_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidImageContentException>(() => new BmpDecoder().Decode(bmp));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal(ImageFormat.Bmp, ImageCodecs.DetectFormat(bmp));
    }

    /// <summary>A BMP built byte by byte in the test, with the pixels it must decode to.</summary>
    private sealed record Crafted(byte[] Bmp, byte[] ExpectedRgba, PixelFormat ExpectedFormat)
    {
        public static Crafted Create(string kind, int w, int h, bool topDown, int seed)
        {
            Random rng = new(seed);
            int bpp = kind switch
            {
                "pal1" => 1,
                "pal4" => 4,
                "pal8" or "gray8" => 8,
                "rgb16" or "bf16-565" => 16,
                "rgb24" => 24,
                _ => 32,
            };
            bool v5 = kind == "bf32-alpha-v5";
            int infoSize = v5 ? 124 : 40;
            int compression = kind.StartsWith("bf", StringComparison.Ordinal) ? 3 : 0;
            uint[] masks = kind switch
            {
                "bf16-565" => [0xF800, 0x07E0, 0x001F],
                "bf32" => [0x0000FF00, 0x00FF0000, 0xFF000000],
                "bf32-alpha-v5" => [0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000],
                _ => [],
            };
            int paletteCount = bpp <= 8 ? (kind == "pal8" ? 200 : 1 << bpp) : 0;
            byte[][] palette = new byte[paletteCount][];
            for (int i = 0; i < paletteCount; i++)
            {
                byte g = (byte)rng.Next(256);
                palette[i] = kind == "gray8" ? [g, g, g] : [(byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)];
            }

            int stride = ((w * bpp) + 31) / 32 * 4;
            int masksBytes = compression == 3 && infoSize == 40 ? 12 : 0;
            int pixelOffset = 14 + infoSize + masksBytes + (4 * paletteCount);
            byte[] bmp = new byte[pixelOffset + (stride * h)];
            Encoding.ASCII.GetBytes("BM").CopyTo(bmp, 0);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), pixelOffset);
            Span<byte> info = bmp.AsSpan(14, infoSize);
            BinaryPrimitives.WriteInt32LittleEndian(info, infoSize);
            BinaryPrimitives.WriteInt32LittleEndian(info[4..], w);
            BinaryPrimitives.WriteInt32LittleEndian(info[8..], topDown ? -h : h);
            BinaryPrimitives.WriteInt16LittleEndian(info[12..], 1);
            BinaryPrimitives.WriteInt16LittleEndian(info[14..], (short)bpp);
            BinaryPrimitives.WriteInt32LittleEndian(info[16..], compression);
            BinaryPrimitives.WriteInt32LittleEndian(info[32..], kind == "pal8" ? paletteCount : 0);
            Span<byte> maskArea = infoSize == 40 ? bmp.AsSpan(14 + 40, masksBytes) : info.Slice(40, 16);
            for (int i = 0; i < masks.Length; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(maskArea[(4 * i)..], masks[i]);
            }

            int palStart = 14 + infoSize + masksBytes;
            for (int i = 0; i < paletteCount; i++)
            {
                (bmp[palStart + (4 * i)], bmp[palStart + (4 * i) + 1], bmp[palStart + (4 * i) + 2]) = (palette[i][2], palette[i][1], palette[i][0]);
            }

            byte[] rgba = new byte[w * h * 4];
            for (int y = 0; y < h; y++)
            {
                int fileRow = topDown ? y : h - 1 - y;
                Span<byte> row = bmp.AsSpan(pixelOffset + (fileRow * stride), stride);
                rng.NextBytes(row); // padding bytes too: decoders must ignore them
                for (int x = 0; x < w; x++)
                {
                    byte r, g, b, a = 255;
                    if (bpp <= 8)
                    {
                        int index = rng.Next(paletteCount);
                        if (bpp == 8)
                        {
                            row[x] = (byte)index;
                        }
                        else
                        {
                            int bit = x * bpp;
                            int shift = 8 - bpp - (bit % 8);
                            row[bit / 8] = (byte)((row[bit / 8] & ~(((1 << bpp) - 1) << shift)) | (index << shift));
                        }

                        (r, g, b) = (palette[index][0], palette[index][1], palette[index][2]);
                    }
                    else if (bpp == 16)
                    {
                        int v = BinaryPrimitives.ReadUInt16LittleEndian(row[(2 * x)..]);
                        (int rb, int gb, int bb, int rs, int gs) = kind == "rgb16" ? (5, 5, 5, 10, 5) : (5, 6, 5, 11, 5);
                        int rm = (1 << rb) - 1, gm = (1 << gb) - 1, bm = (1 << bb) - 1;
                        r = (byte)(((((v >> rs) & rm) * 255) + (rm / 2)) / rm);
                        g = (byte)(((((v >> gs) & gm) * 255) + (gm / 2)) / gm);
                        b = (byte)((((v & bm) * 255) + (bm / 2)) / bm);
                    }
                    else if (bpp == 24)
                    {
                        (b, g, r) = (row[3 * x], row[(3 * x) + 1], row[(3 * x) + 2]);
                    }
                    else
                    {
                        Span<byte> p = row.Slice(4 * x, 4);
                        (r, g, b) = kind switch
                        {
                            "bf32" => (p[1], p[2], p[3]),
                            _ => (p[2], p[1], p[0]),
                        };
                        if (v5)
                        {
                            a = p[3];
                        }
                    }

                    (rgba[4 * ((y * w) + x)], rgba[(4 * ((y * w) + x)) + 1], rgba[(4 * ((y * w) + x)) + 2], rgba[(4 * ((y * w) + x)) + 3]) = (r, g, b, a);
                }
            }

            PixelFormat format = kind == "gray8" ? PixelFormat.Gray8 : v5 ? PixelFormat.Rgba32 : PixelFormat.Rgb24;
            return new Crafted(bmp, rgba, format);
        }
    }
}

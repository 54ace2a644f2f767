using DefectDetection.Imaging.Formats.Png;

namespace DefectDetection.Imaging.Tests.Formats.Png;

public sealed class PngDecoderTests
{
    public static TheoryData<int, int, bool, bool> Cases()
    {
        TheoryData<int, int, bool, bool> data = [];
        (int Type, int[] Depths)[] combos = [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16])];
        foreach ((int type, int[] depths) in combos)
        {
            foreach (int depth in depths)
            {
                foreach (bool interlace in new[] { false, true })
                {
                    data.Add(type, depth, interlace, false);
                    if (type is 0 or 2 or 3)
                    {
                        data.Add(type, depth, interlace, true);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodesEveryColourTypeAndDepthToTheKnownPixels(int colorType, int depth, bool interlace, bool trns)
    {
        foreach ((int w, int h) in new[] { (1, 1), (19, 13), (70, 3), (3, 17) })
        {
            Fixture f = Fixture.Create(colorType, depth, interlace, trns, w, h, seed: (colorType * 100) + depth + w);
            using Image image = new PngDecoder().Decode(f.Png);
            Assert.Equal((w, h), (image.Width, image.Height));
            Assert.Equal(f.ExpectedFormat, image.PixelFormat);
            Pixels.AssertEqualRgba(f.ExpectedRgba, Pixels.ToRgba(image), w, $"type {colorType} depth {depth} {w}x{h}");

            ImageInfo info = new PngDecoder().Identify(f.Png);
            Assert.Equal((w, h, depth, f.ExpectedFormat), (info.Width, info.Height, info.BitDepth, info.PixelFormat));
            Assert.Equal(interlace, info.Details!.Contains("interlaced"));
            Assert.Equal(trns, info.Details!.Contains("tRNS"));
        }
    }

    [NetpbmTheory]
    [MemberData(nameof(Cases))]
    public void FixturesDecodeIdenticallyWithPngtopam(int colorType, int depth, bool interlace, bool trns)
    {
        // Checks the test writer and the expected pixels against libpng (through Netpbm), independently of our decoder.
        foreach ((int w, int h) in new[] { (19, 13), (3, 17) })
        {
            Fixture f = Fixture.Create(colorType, depth, interlace, trns, w, h, seed: (colorType * 100) + depth + w);
            PamImage reference = Netpbm.ParsePam(Netpbm.Run("pngtopam", "-alphapam", f.Png));
            byte[] expected = f.ExpectedRgba;
            byte[] actual = reference.ToRgba();
            if (colorType == 2 && trns)
            {
                // pngtopam (Netpbm 11.1) ignores the tRNS colour key of truecolour images (a pixel equal to the
                // key comes out opaque, against the PNG specification), so only the colours are compared here.
                expected = OpaqueCopy(expected);
                actual = OpaqueCopy(actual);
            }

            Pixels.AssertEqualRgba(expected, actual, w, "pngtopam vs expected");
        }
    }

    private static byte[] OpaqueCopy(byte[] rgba)
    {
        byte[] copy = (byte[])rgba.Clone();
        for (int i = 3; i < copy.Length; i += 4)
        {
            copy[i] = 255;
        }

        return copy;
    }

    [Fact]
    public void PaletteIndicesBeyondThePaletteDecodeAsOpaqueBlackLikeLibpng()
    {
        byte[] png = PngTestWriter.Write(4, 1, 3, 2, [0, 1, 2, 3], palette: [10, 20, 30, 40, 50, 60], trns: [100]);
        byte[] expected = [10, 20, 30, 100, 40, 50, 60, 255, 0, 0, 0, 255, 0, 0, 0, 255];
        using Image image = new PngDecoder().Decode(png);
        Assert.Equal(expected, Pixels.ToRgba(image));
        if (Netpbm.Available)
        {
            Assert.Equal(expected, Netpbm.ParsePam(Netpbm.Run("pngtopam", "-alphapam", png)).ToRgba());
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExifOrientationInAnExifChunkIsReportedAndApplied(bool bigEndian)
    {
        // 2x1 RGB: red, green; orientation 6 means "rotate 90 degrees clockwise to show": red ends on top.
        byte[] exif = bigEndian
            ? [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
            : [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] plain = PngTestWriter.Write(2, 1, 2, 8, [255, 0, 0, 0, 255, 0]);
        byte[] png = PngChunks.Insert(plain, "eXIf", exif);
        Assert.Equal(ExifOrientation.RightTop, new PngDecoder().Identify(png).Orientation);

        using Image upright = new PngDecoder().Decode(png);
        Assert.Equal((1, 2), (upright.Width, upright.Height));
        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0 }, upright.Pixels.ToArray());

        using Image stored = new PngDecoder().Decode(png, new DecoderOptions { ApplyExifOrientation = false });
        Assert.Equal((2, 1), (stored.Width, stored.Height));

        // A malformed EXIF block is ignored, never an error.
        byte[] broken = PngChunks.Insert(plain, "eXIf", exif[..11]);
        Assert.Equal(ExifOrientation.Unknown, new PngDecoder().Identify(broken).Orientation);
        using Image unrotated = new PngDecoder().Decode(broken);
        Assert.Equal((2, 1), (unrotated.Width, unrotated.Height));
    }

    [Fact]
    public void Palette4BitWithTrnsIdentifiesWithDetails()
    {
        Fixture f = Fixture.Create(3, 4, interlace: true, trns: true, 9, 9, seed: 5);
        ImageInfo info = new PngDecoder().Identify(f.Png);
        Assert.Equal(ImageFormat.Png, info.Format);
        Assert.Equal(4, info.Channels);
        Assert.StartsWith("palette 4-bit", info.Details);
        Assert.Contains("tRNS", info.Details);
        Assert.EndsWith("interlaced", info.Details);
        Assert.Equal(ImageFormat.Png, ImageCodecs.DetectFormat(f.Png));
    }

    [Fact]
    public void WrongCrcNamesTheChunkAndItsOffset()
    {
        Fixture f = Fixture.Create(2, 8, false, false, 8, 8, seed: 1);
        foreach (string name in new[] { "IHDR", "tEXt", "IDAT", "IEND" })
        {
            byte[] png = (byte[])f.Png.Clone();
            int chunk = PngChunks.Find(png, name);
            int length = (png[chunk] << 24) | (png[chunk + 1] << 16) | (png[chunk + 2] << 8) | png[chunk + 3];
            png[chunk + 8 + length + 3] ^= 0x01;
            InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => new PngDecoder().Decode(png));
            Assert.Contains("CRC", ex.Reason);
            Assert.Contains(name, ex.Reason);
            Assert.Equal(chunk, ex.Offset);
            Assert.Equal(ImageFormat.Png, ex.Format);
        }
    }

    [Theory]
    [InlineData(1_000_000u, 1_000_000u)]
    [InlineData(0x7FFFFFFFu, 1u)]
    [InlineData(20_000u, 20_000u)]
    public void AbsurdDimensionsAreRejectedBeforeAllocating(uint width, uint height)
    {
        byte[] png = PngChunks.WithHeader(width, height, colorType: 6, depth: 16);
        long before = GC.GetAllocatedBytesForCurrentThread();
        InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => new PngDecoder().Decode(png));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("exceeds the limit", ex.Reason);
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes before rejecting");
        Assert.Throws<InvalidImageContentException>(() => new PngDecoder().Identify(png));
    }

    [Fact]
    public void MaxPixelsOptionIsHonoured()
    {
        Fixture f = Fixture.Create(0, 8, false, false, 100, 100, seed: 2);
        Assert.Throws<InvalidImageContentException>(() => new PngDecoder().Decode(f.Png, new DecoderOptions { MaxPixels = 9_999 }));
        using Image ok = new PngDecoder().Decode(f.Png, new DecoderOptions { MaxPixels = 10_000 });
        Assert.Equal(100, ok.Width);
    }

    [Fact]
    public void TooLittleImageDataIsATruncationError()
    {
        // A 4000x4000 header whose zlib stream inflates to only two rows: a small bomb that must not be trusted.
        byte[] rows = new byte[2 * 4001];
        byte[] png = PngChunks.Build(4000, 4000, 0, 8, rows);
        InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => new PngDecoder().Decode(png));
        Assert.Contains("truncated", ex.Reason);
    }

    [Fact]
    public void ExtraImageDataAfterTheLastRowIsIgnored()
    {
        byte[] rows = new byte[(3 * 5) + 100];
        for (int i = 0; i < 3; i++)
        {
            rows[(i * 5) + 1] = (byte)(10 * (i + 1));
        }

        using Image image = new PngDecoder().Decode(PngChunks.Build(4, 3, 0, 8, rows));
        Assert.Equal(new byte[] { 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0 }, image.Pixels.ToArray());
    }

    [Theory]
    [InlineData("no signature")]
    [InlineData("IDAT first")]
    [InlineData("bad depth")]
    [InlineData("bad filter")]
    [InlineData("no PLTE")]
    [InlineData("unknown critical")]
    [InlineData("no IEND")]
    [InlineData("bad zlib")]
    public void MalformedFilesEndInTheDomainException(string kind)
    {
        byte[] good = PngChunks.Build(4, 3, 0, 8, new byte[15]);
        byte[] png = kind switch
        {
            "no signature" => good[1..],
            "IDAT first" => [.. good[..8], .. good[PngChunks.Find(good, "IDAT")..]],
            "bad depth" => PngChunks.WithHeader(4, 3, colorType: 2, depth: 4),
            "bad filter" => PngChunks.Build(4, 3, 0, 8, [0, 1, 2, 3, 4, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            "no PLTE" => PngChunks.Build(4, 3, 3, 8, new byte[15]),
            "unknown critical" => PngChunks.Insert(good, "ABCD", [1, 2, 3]),
            "no IEND" => good[..PngChunks.Find(good, "IEND")],
            _ => PngChunks.Build(4, 3, 0, 8, new byte[15], zlibOverride: [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0x00]),
        };
        InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => new PngDecoder().Decode(png));
        Assert.Equal(ImageFormat.Png, ex.Format);
        Assert.False(string.IsNullOrWhiteSpace(ex.Reason));
    }

    /// <summary>A generated PNG with the pixels it must decode to.</summary>
    internal sealed record Fixture(byte[] Png, byte[] ExpectedRgba, PixelFormat ExpectedFormat)
    {
        public static Fixture Create(int colorType, int depth, bool interlace, bool trns, int w, int h, int seed)
        {
            Random rng = new(seed);
            int spp = colorType switch { 0 or 3 => 1, 4 => 2, 2 => 3, _ => 4 };
            int max = depth == 16 ? 65535 : (1 << depth) - 1;
            int[] samples = new int[w * h * spp];
            for (int i = 0; i < samples.Length; i++)
            {
                samples[i] = rng.Next(max + 1);
            }

            byte[]? palette = null;
            byte[]? trnsChunk = null;
            int paletteCount = 0;
            if (colorType == 3)
            {
                paletteCount = Math.Min(256, max + 1);
                palette = new byte[paletteCount * 3];
                rng.NextBytes(palette);
            }

            // Key colour: copy of the first pixel, so that at least one pixel matches; make others match too.
            int[] key = samples[..spp];
            if (trns)
            {
                for (int i = 0; i < samples.Length / spp; i += 3)
                {
                    Array.Copy(key, 0, samples, i * spp, spp);
                }

                if (colorType == 3)
                {
                    trnsChunk = new byte[Math.Max(1, paletteCount / 2)];
                    rng.NextBytes(trnsChunk);
                }
                else
                {
                    trnsChunk = new byte[2 * spp];
                    for (int c = 0; c < spp; c++)
                    {
                        trnsChunk[2 * c] = (byte)(key[c] >> 8);
                        trnsChunk[(2 * c) + 1] = (byte)key[c];
                    }
                }
            }

            byte[] rgba = new byte[w * h * 4];
            for (int i = 0; i < w * h; i++)
            {
                int[] s = samples[(i * spp)..((i + 1) * spp)];
                byte To8(int v) => depth == 16 ? (byte)(v >> 8) : (byte)(v * 255 / max);
                (byte r, byte g, byte b, byte a) = colorType switch
                {
                    0 => (To8(s[0]), To8(s[0]), To8(s[0]), trns && s[0] == key[0] ? (byte)0 : (byte)255),
                    2 => (To8(s[0]), To8(s[1]), To8(s[2]), trns && s.AsSpan().SequenceEqual(key) ? (byte)0 : (byte)255),
                    3 => (palette![3 * s[0]], palette[(3 * s[0]) + 1], palette[(3 * s[0]) + 2], trns && s[0] < trnsChunk!.Length ? trnsChunk[s[0]] : (byte)255),
                    4 => (To8(s[0]), To8(s[0]), To8(s[0]), To8(s[1])),
                    _ => (To8(s[0]), To8(s[1]), To8(s[2]), To8(s[3])),
                };
                (rgba[4 * i], rgba[(4 * i) + 1], rgba[(4 * i) + 2], rgba[(4 * i) + 3]) = (r, g, b, a);
            }

            PixelFormat format = colorType switch
            {
                0 => trns ? PixelFormat.Rgba32 : PixelFormat.Gray8,
                2 or 3 => trns ? PixelFormat.Rgba32 : PixelFormat.Rgb24,
                _ => PixelFormat.Rgba32,
            };
            byte[] png = PngTestWriter.Write(w, h, colorType, depth, samples, palette, trnsChunk, interlace, idatPieces: 1 + (seed % 4));
            return new Fixture(png, rgba, format);
        }
    }
}

/// <summary>Chunk-level helpers for crafting and altering PNG files in tests.</summary>
internal static class PngChunks
{
    /// <summary>Offset of the first chunk called <paramref name="name"/>.</summary>
    public static int Find(byte[] png, string name)
    {
        int pos = 8;
        while (pos + 8 <= png.Length)
        {
            int length = (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
            if (System.Text.Encoding.ASCII.GetString(png, pos + 4, 4) == name)
            {
                return pos;
            }

            pos += 12 + length;
        }

        throw new InvalidOperationException($"No {name} chunk.");
    }

    /// <summary>All chunks as (offset, length, name).</summary>
    public static List<(int Offset, int Length, string Name)> List(byte[] png)
    {
        List<(int, int, string)> chunks = [];
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            int length = (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
            chunks.Add((pos, length, System.Text.Encoding.ASCII.GetString(png, pos + 4, 4)));
            pos += 12 + length;
        }

        return chunks;
    }

    /// <summary>Recomputes the CRC of the chunk at <paramref name="offset"/>.</summary>
    public static void FixCrc(byte[] png, int offset, int length)
    {
        PngTestWriter.BE(png, offset + 8 + length, PngTestWriter.BitwiseCrc(png.AsSpan(offset + 4, length + 4)));
    }

    /// <summary>A PNG of the given unfiltered-stream bytes (filter bytes included) compressed as one IDAT.</summary>
    public static byte[] Build(uint width, uint height, int colorType, int depth, byte[] rows, byte[]? zlibOverride = null)
    {
        using MemoryStream s = new();
        s.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        PngTestWriter.Chunk(s, "IHDR", Header(width, height, colorType, depth));
        byte[] z = zlibOverride ?? Compress(rows);
        PngTestWriter.Chunk(s, "IDAT", z);
        PngTestWriter.Chunk(s, "IEND", []);
        return s.ToArray();
    }

    /// <summary>A PNG with the given header and a tiny IDAT.</summary>
    public static byte[] WithHeader(uint width, uint height, int colorType, int depth) =>
        Build(width, height, colorType, depth, new byte[64]);

    /// <summary>Inserts a chunk right after IHDR.</summary>
    public static byte[] Insert(byte[] png, string type, byte[] data)
    {
        using MemoryStream s = new();
        s.Write(png, 0, 33);
        PngTestWriter.Chunk(s, type, data);
        s.Write(png, 33, png.Length - 33);
        return s.ToArray();
    }

    private static byte[] Header(uint width, uint height, int colorType, int depth)
    {
        byte[] h = new byte[13];
        PngTestWriter.BE(h, 0, width);
        PngTestWriter.BE(h, 4, height);
        h[8] = (byte)depth;
        h[9] = (byte)colorType;
        return h;
    }

    private static byte[] Compress(byte[] data)
    {
        using MemoryStream z = new();
        using (System.IO.Compression.ZLibStream zs = new(z, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            zs.Write(data);
        }

        return z.ToArray();
    }
}

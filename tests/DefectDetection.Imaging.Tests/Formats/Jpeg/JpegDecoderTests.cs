using DefectDetection.Imaging.Formats.Jpeg;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary>
/// Fixtures generated at test time by cjpeg from a synthetic image (and by <see cref="MiniJpegEncoder"/> for
/// CMYK/YCCK), each compared with djpeg's decode of the same bytes.
/// </summary>
public sealed class JpegDecoderTests
{
    private static readonly DecoderOptions NoOrientation = new() { ApplyExifOrientation = false };
    private static readonly JpegDecoder Decoder = new();

    /// <summary>A deterministic RGB test card: gradients, hard edges, a disc and noise, at an odd size.</summary>
    internal static (int Width, int Height, byte[] Rgb) SyntheticImage(int width = 227, int height = 149, int seed = 42)
    {
        var rng = new Random(seed);
        byte[] rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 3;
                double dx = x - (width * 0.6), dy = y - (height * 0.4);
                bool disc = (dx * dx) + (dy * dy) < (height * 0.25) * (height * 0.25);
                bool stripe = (x / 9 % 2 == 0) && y > height * 0.7;
                int r = disc ? 230 : (x * 255 / width);
                int g = stripe ? 20 : (y * 255 / height);
                int b = disc ? 40 : 128 + (int)(100 * Math.Sin(x * 0.05));
                int n = rng.Next(-12, 13);
                rgb[i] = (byte)Math.Clamp(r + n, 0, 255);
                rgb[i + 1] = (byte)Math.Clamp(g + n, 0, 255);
                rgb[i + 2] = (byte)Math.Clamp(b - n, 0, 255);
            }
        }

        return (width, height, rgb);
    }

    internal static byte[] CjpegFixture(params string[] args)
    {
        (int w, int h, byte[] rgb) = SyntheticImage();
        return LibjpegTools.EncodeWithCjpeg(LibjpegTools.ToPnm(w, h, 3, rgb), args);
    }

    private static void AssertMatchesDjpeg(byte[] jpeg, string name)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ddjpeg-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(path, jpeg);
        try
        {
            (int w, int h, int ch, byte[] expected) = LibjpegTools.DecodeWithDjpeg(path);
            using Image image = Decoder.Decode(jpeg, NoOrientation);
            Assert.Equal((w, h, ch), (image.Width, image.Height, image.Channels));
            PixelDiff diff = PixelDiff.Compute(image.Pixels, expected, ch);
            Assert.True(diff.Within(), $"{name}: {diff}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LibjpegTheory]
    [InlineData("baseline-420", "baseline 4:2:0", new[] { "-quality", "85" })]
    [InlineData("progressive", "progressive 4:2:0", new[] { "-progressive" })]
    [InlineData("progressive-444", "progressive 4:4:4", new[] { "-progressive", "-sample", "1x1" })]
    [InlineData("restart-1", "baseline 4:2:0, restart 1", new[] { "-restart", "1B" })]
    [InlineData("restart-progressive", "progressive 4:2:0, restart 3", new[] { "-progressive", "-restart", "3B" })]
    [InlineData("422", "baseline 4:2:2", new[] { "-sample", "2x1" })]
    [InlineData("440", "baseline 4:4:0", new[] { "-sample", "1x2" })]
    [InlineData("444", "baseline 4:4:4", new[] { "-sample", "1x1" })]
    [InlineData("411", "baseline 4:1:1", new[] { "-sample", "4x1" })]
    [InlineData("odd-2x1-1x2-1x1", "baseline 2x1,1x2,1x1", new[] { "-sample", "2x1,1x2,1x1" })]
    [InlineData("odd-1x2-2x1-2x2", "baseline 1x2,2x1,2x2", new[] { "-sample", "1x2,2x1,2x2" })]
    [InlineData("gray", "baseline gray", new[] { "-grayscale" })]
    [InlineData("gray-progressive", "progressive gray", new[] { "-grayscale", "-progressive" })]
    [InlineData("optimised", "baseline 4:2:0", new[] { "-optimize", "-quality", "95" })]
    [InlineData("quality-100", "baseline 4:4:4", new[] { "-quality", "100", "-sample", "1x1" })]
    [InlineData("rgb", "baseline RGB 4:4:4", new[] { "-rgb" })]
    public void CjpegFixtureMatchesDjpeg(string name, string details, string[] cjpegArgs)
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        byte[] jpeg = CjpegFixture(cjpegArgs);
        AssertMatchesDjpeg(jpeg, name);
        ImageInfo info = Decoder.Identify(jpeg);
        Assert.Equal((227, 149, 8), (info.Width, info.Height, info.BitDepth));
        Assert.Equal(details, info.Details);
        Assert.Equal(details.Contains("gray") ? PixelFormat.Gray8 : PixelFormat.Rgb24, info.PixelFormat);
    }

    [LibjpegTheory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 5)]
    [InlineData(17, 1)]
    [InlineData(1, 17)]
    [InlineData(33, 9)]
    public void TinyImagesMatchDjpegForEverySampling(int width, int height)
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        (_, _, byte[] rgb) = SyntheticImage(width, height, seed: width * 31 + height);
        byte[] pnm = LibjpegTools.ToPnm(width, height, 3, rgb);
        foreach (string[] args in new[] { new[] { "-sample", "2x2" }, ["-sample", "2x1"], ["-sample", "1x2"], ["-sample", "1x1", "-progressive"], ["-sample", "2x2", "-progressive"], ["-grayscale"] })
        {
            AssertMatchesDjpeg(LibjpegTools.EncodeWithCjpeg(pnm, args), $"{width}x{height} {string.Join(' ', args)}");
        }
    }

    [LibjpegTheory]
    [InlineData("sequential-multiscan", "baseline 4:2:0", "0;\n1 2;\n", false)]
    [InlineData("sequential-per-component", "baseline 4:2:0", "0;\n1;\n2;\n", false)]
    [InlineData("progressive-custom", "progressive 4:2:0",
        "0 1 2: 0 0 0 2;\n0: 1 5 0 1;\n0: 6 63 0 1;\n1: 1 63 0 0;\n2: 1 63 0 0;\n0: 1 63 1 0;\n0 1 2: 0 0 2 1;\n0 1 2: 0 0 1 0;\n", true)]
    public void ScanScriptFixtureMatchesDjpeg(string name, string details, string script, bool progressive)
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        string scripts = Path.Combine(Path.GetTempPath(), $"ddjpeg-{Guid.NewGuid():N}.txt");
        File.WriteAllText(scripts, script);
        try
        {
            byte[] jpeg = progressive ? CjpegFixture("-progressive", "-scans", scripts) : CjpegFixture("-scans", scripts);
            AssertMatchesDjpeg(jpeg, name);
            Assert.Equal(details, Decoder.Identify(jpeg).Details);
        }
        finally
        {
            File.Delete(scripts);
        }
    }

    [LibjpegTheory]
    [InlineData(0, 1, 0)]
    [InlineData(0, 1, 5)]
    [InlineData(2, 1, 0)]
    [InlineData(2, 2, 7)]
    public void CmykAndYcckMatchDjpeg(int adobeTransform, int lumaSampling, int restart)
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        const int w = 45, h = 29;
        (_, _, byte[] rgb) = SyntheticImage(w, h, seed: 7);
        var planes = new byte[4][];
        for (int c = 0; c < 4; c++)
        {
            planes[c] = new byte[w * h];
        }

        for (int i = 0; i < w * h; i++)
        {
            planes[0][i] = rgb[3 * i];
            planes[1][i] = rgb[(3 * i) + 1];
            planes[2][i] = rgb[(3 * i) + 2];
            planes[3][i] = (byte)(255 - (i % w * 3));
        }

        int s = lumaSampling;
        var components = new List<MiniJpegEncoder.Component>();
        for (int c = 0; c < 4; c++)
        {
            bool full = c is 0 or 3;
            int f = full ? 1 : s;
            int cw = (w + f - 1) / f, ch = (h + f - 1) / f;
            byte[] samples = new byte[cw * ch];
            for (int y = 0; y < ch; y++)
            {
                for (int x = 0; x < cw; x++)
                {
                    samples[(y * cw) + x] = planes[c][(Math.Min(y * f, h - 1) * w) + Math.Min(x * f, w - 1)];
                }
            }

            components.Add(new MiniJpegEncoder.Component(c + 1, full ? s : 1, full ? s : 1, samples, cw, ch));
        }

        byte[] jpeg = MiniJpegEncoder.Encode(w, h, components, adobeTransform, restartInterval: restart);
        AssertMatchesDjpeg(jpeg, $"adobe {adobeTransform}");
        ImageInfo info = Decoder.Identify(jpeg);
        Assert.Equal(4, info.Channels);
        Assert.StartsWith(adobeTransform == 0 ? "baseline CMYK" : "baseline YCCK", info.Details);
    }

    [LibjpegFact]
    public void MiniEncoderOutputMatchesDjpegForYCbCrWithRestarts()
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        const int w = 37, h = 21;
        (_, _, byte[] rgb) = SyntheticImage(w, h, seed: 3);
        var comps = new List<MiniJpegEncoder.Component>();
        for (int c = 0; c < 3; c++)
        {
            comps.Add(new MiniJpegEncoder.Component(c + 1, 1, 1, Enumerable.Range(0, w * h).Select(i => rgb[(3 * i) + c]).ToArray(), w, h));
        }

        AssertMatchesDjpeg(MiniJpegEncoder.Encode(w, h, comps, adobeTransform: 1, restartInterval: 2), "ycc restart 2");
    }

    [LibjpegTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExifOrientationIsReadInBothByteOrdersAndApplied(bool littleEndian)
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        byte[] plain = CjpegFixture("-sample", "1x1");
        byte[] oriented = InsertExif(plain, orientation: 6, littleEndian);
        ImageInfo info = Decoder.Identify(oriented);
        Assert.Equal(ExifOrientation.RightTop, info.Orientation);
        Assert.Equal((149, 227), (info.DisplayWidth, info.DisplayHeight));

        using Image stored = Decoder.Decode(oriented, NoOrientation);
        using Image upright = Decoder.Decode(oriented);
        Assert.Equal((227, 149), (stored.Width, stored.Height));
        Assert.Equal((149, 227), (upright.Width, upright.Height));

        // Orientation 6: the stored image is shown rotated 90 degrees clockwise, so the stored bottom-left pixel
        // becomes the top-left one.
        Assert.Equal(stored.GetRow(148)[..3].ToArray(), upright.GetRow(0)[..3].ToArray());
        using Image expected = Orientation.Rotate90(stored);
        Assert.Equal(expected.Pixels.ToArray(), upright.Pixels.ToArray());
    }

    internal static byte[] InsertExif(byte[] jpeg, int orientation, bool littleEndian)
    {
        var tiff = new List<byte>();
        void U16(int v) => tiff.AddRange(littleEndian ? [(byte)v, (byte)(v >> 8)] : [(byte)(v >> 8), (byte)v]);
        void U32(int v) => tiff.AddRange(littleEndian ? [(byte)v, (byte)(v >> 8), (byte)(v >> 16), (byte)(v >> 24)] : [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        tiff.AddRange(littleEndian ? "II"u8.ToArray() : "MM"u8.ToArray());
        U16(42);
        U32(8);
        U16(2); // two entries: an unrelated tag first
        U16(0x010F); U16(2); U32(4); tiff.AddRange("ACME"u8.ToArray());
        U16(0x0112); U16(3); U32(1); U16(orientation); U16(0);
        U32(0);
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        byte[] segment = [0xFF, 0xE1, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    [Fact]
    public void HeaderSignatureIsRecognised()
    {
        Assert.True(Decoder.IsSupportedHeader([0xFF, 0xD8, 0xFF, 0xE0]));
        Assert.False(Decoder.IsSupportedHeader([0xFF, 0xD8]));
        Assert.False(Decoder.IsSupportedHeader([0x89, 0x50, 0x4E, 0x47]));
        Assert.Equal(ImageFormat.Jpeg, ImageCodecs.DetectFormat([0xFF, 0xD8, 0xFF, 0xDB]));
    }

    [LibjpegFact]
    public void ArithmeticCodingIsRejectedClearly()
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        byte[] jpeg = CjpegFixture("-arithmetic");
        var ex = Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(jpeg));
        Assert.Contains("arithmetic", ex.Message);
        Assert.Equal(ImageFormat.Jpeg, ex.Format);
    }

    [LibjpegFact]
    public void TwelveBitPrecisionIsRejectedClearly()
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        byte[] jpeg = CjpegFixture();
        int sof = FindMarker(jpeg, 0xC0);
        jpeg[sof + 4] = 12;
        var ex = Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(jpeg));
        Assert.Contains("12-bit", ex.Message);
        Assert.Equal(sof, ex.Offset);
    }

    [LibjpegFact]
    public void OversizedHeaderIsRejectedBeforeAllocating()
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        byte[] jpeg = CjpegFixture();
        int sof = FindMarker(jpeg, 0xC0);
        jpeg[sof + 5] = 0xFF; // height 65535
        jpeg[sof + 6] = 0xFF;
        jpeg[sof + 7] = 0xFF; // width 65535
        jpeg[sof + 8] = 0xFF;
        var ex = Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(jpeg));
        Assert.Contains("exceeds the limit", ex.Message);
        var small = new DecoderOptions { MaxPixels = 1000 };
        Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(CjpegFixture(), small));

        // Identify reads the header only and reports the declared size.
        Assert.Equal(65535, Decoder.Identify(jpeg).Width);
    }

    [LibjpegTheory]
    [InlineData("-quality", "90")]
    [InlineData("-progressive")]
    [InlineData("-restart", "2B")]
    public void TruncatedScansThrow(params string[] args)
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        byte[] jpeg = CjpegFixture(args);
        int sos = FindMarker(jpeg, 0xDA);
        for (int cut = sos + 20; cut < jpeg.Length - 8; cut += Math.Max(1, (jpeg.Length - sos) / 40))
        {
            var ex = Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(jpeg.AsSpan(0, cut)));
            Assert.Equal(ImageFormat.Jpeg, ex.Format);
            Assert.True(ex.Offset <= cut, $"offset {ex.Offset} beyond the cut at {cut}");
        }

        // Only the EOI missing: a sequential file's single scan is complete and the image is returned; in a
        // progressive file more scans could have followed, so the missing EOI is reported as truncation.
        if (args.Contains("-progressive"))
        {
            Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(jpeg.AsSpan(0, jpeg.Length - 2)));
        }
        else
        {
            using Image complete = Decoder.Decode(jpeg.AsSpan(0, jpeg.Length - 2));
            Assert.Equal(227, complete.Width);
        }
    }

    [Fact]
    public void GarbageAndEmptyInputsThrowTheDomainException()
    {
        Assert.Throws<InvalidImageContentException>(() => Decoder.Decode([]));
        Assert.Throws<InvalidImageContentException>(() => Decoder.Decode([0xFF, 0xD8, 0xFF]));
        Assert.Throws<InvalidImageContentException>(() => Decoder.Identify([0xFF, 0xD8, 0xFF, 0xD9]));
        Assert.Throws<InvalidImageContentException>(() => Decoder.Decode([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02, 0xFF, 0xD9]));
    }

    internal static int FindMarker(byte[] jpeg, int marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"marker {marker:X2} not found");
    }
}

/// <summary>Recovery at restart markers after damage inside one restart interval.</summary>
public sealed class JpegRestartRecoveryTests
{
    [LibjpegFact]
    public void DamageInsideOneRestartIntervalIsConfinedToIt()
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        // One restart interval per MCU row (16 pixel rows at 4:2:0).
        byte[] jpeg = JpegDecoderTests.CjpegFixture("-restart", "1", "-quality", "90");
        var rsts = new List<int>();
        for (int i = JpegDecoderTests.FindMarker(jpeg, 0xDA); i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xD0 and <= 0xD7)
            {
                rsts.Add(i);
            }
        }

        Assert.True(rsts.Count >= 8, $"expected restart markers, found {rsts.Count}");

        // Damage the interval that codes MCU row 4 (between RST 3 and RST 4): scramble its second quarter
        // (avoiding 0xFF) and cut its second half, so that the decoder runs into the RST marker mid-row.
        int from = rsts[3] + 2, to = rsts[4];
        var rng = new Random(5);
        int quarter = (to - from) / 4;
        for (int i = from + quarter; i < from + (2 * quarter); i++)
        {
            jpeg[i] = (byte)rng.Next(0, 0xFF);
        }

        jpeg = [.. jpeg.AsSpan(0, from + (2 * quarter)), .. jpeg.AsSpan(to)];

        using Image damaged = new JpegDecoder().Decode(jpeg, new DecoderOptions { ApplyExifOrientation = false });
        string path = Path.Combine(Path.GetTempPath(), $"ddjpeg-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(path, jpeg);
        try
        {
            (int w, int h, int ch, byte[] expected) = LibjpegTools.DecodeWithDjpeg(path, allowWarnings: true);
            Assert.Equal((w, h), (damaged.Width, damaged.Height));

            // Rows of the damaged MCU row (and one row of upsampling context either side) may differ; every other
            // row must match djpeg, which resynchronises at the same marker.
            int stride = w * ch;
            for (int y = 0; y < h; y++)
            {
                if (y >= (4 * 16) - 1 && y <= (5 * 16))
                {
                    continue;
                }

                PixelDiff diff = PixelDiff.Compute(damaged.GetRow(y), expected.AsSpan(y * stride, stride), ch);
                Assert.True(diff.Within(), $"row {y}: {diff}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using System.Text;
using DefectDetection.Imaging.Formats.Pnm;

namespace DefectDetection.Imaging.Tests.Formats.Pnm;

public sealed class PnmCodecTests
{
    private static Image Random(int w, int h, PixelFormat format, int seed)
    {
        Random rng = new(seed);
        Image image = Image.Create(w, h, format);
        rng.NextBytes(image.Pixels);
        return image;
    }

    private static byte[] Encode(ImageView image)
    {
        using MemoryStream s = new();
        new PnmEncoder().Encode(image, s);
        return s.ToArray();
    }

    private static Image Decode(string text) => new PnmDecoder().Decode(Encoding.ASCII.GetBytes(text));

    [Theory]
    [InlineData(PixelFormat.Gray8, "P5")]
    [InlineData(PixelFormat.Rgb24, "P6")]
    public void RoundTripsThroughOurDecoder(PixelFormat format, string magic)
    {
        using Image source = Random(23, 17, format, 1);
        byte[] data = Encode(source);
        Assert.Equal(magic, Encoding.ASCII.GetString(data, 0, 2));
        using Image decoded = new PnmDecoder().Decode(data);
        Assert.Equal(format, decoded.PixelFormat);
        Assert.Equal(source.Pixels.ToArray(), decoded.Pixels.ToArray());
    }

    [Fact]
    public void Rgba32IsWrittenAsP6WithoutAlpha()
    {
        using Image source = Random(5, 4, PixelFormat.Rgba32, 2);
        using Image decoded = new PnmDecoder().Decode(Encode(source));
        Assert.Equal(PixelFormat.Rgb24, decoded.PixelFormat);
        byte[] expected = Pixels.ToRgba(source);
        for (int i = 3; i < expected.Length; i += 4)
        {
            expected[i] = 255;
        }

        Assert.Equal(expected, Pixels.ToRgba(decoded));
    }

    [Fact]
    public void CropViewsAreWritten()
    {
        using Image source = Random(30, 20, PixelFormat.Rgb24, 3);
        Rectangle region = new(3, 4, 10, 7);
        using Image decoded = new PnmDecoder().Decode(Encode(source.View(region)));
        using Image expected = source.View(region).ToImage();
        Assert.Equal(expected.Pixels.ToArray(), decoded.Pixels.ToArray());
    }

    [NetpbmTheory]
    [InlineData(PixelFormat.Gray8)]
    [InlineData(PixelFormat.Rgb24)]
    public void NetpbmReadsOurFilesAndWeReadItsPlainAndDeepVersions(PixelFormat format)
    {
        using Image source = Random(19, 7, format, 4);
        byte[] raw = Encode(source);

        // Netpbm reads our raw file back unchanged.
        PamImage reference = Netpbm.ParsePam(Netpbm.Run("pamtopnm", string.Empty, raw));
        Pixels.AssertEqualRgba(Pixels.ToRgba(source), reference.ToRgba(), 19, "pamtopnm");

        // Its plain (P2/P3) rendering decodes to the same pixels.
        using Image plain = new PnmDecoder().Decode(Netpbm.Run("pnmtoplainpnm", string.Empty, raw));
        Assert.Equal(source.Pixels.ToArray(), plain.Pixels.ToArray());

        // 16-bit and odd maxvals, rescaled by pamdepth, come back within rounding of the source.
        foreach (int maxval in new[] { 65535, 1000, 31 })
        {
            byte[] deep = Netpbm.Run("pamdepth", maxval.ToString(), raw);
            PamImage expected = Netpbm.ParsePam(deep);
            using Image decoded = new PnmDecoder().Decode(deep);
            for (int i = 0; i < expected.Samples.Length; i++)
            {
                // Our documented scaling: round(v x 255 / maxval).
                int want = (int)Math.Round(expected.Samples[i] * 255.0 / maxval, MidpointRounding.AwayFromZero);
                Assert.Equal(want, decoded.Pixels[i]);
            }
        }
    }

    [Fact]
    public void PlainFormatsFollowTheWhitespaceAndCommentRules()
    {
        using Image gray = Decode("P2\n# a comment\n3 2 # trailing comment\n# another\n15\n0 15 7\n\t1\r\n2   3\n");
        Assert.Equal(PixelFormat.Gray8, gray.PixelFormat);
        Assert.Equal(new byte[] { 0, 255, 119, 17, 34, 51 }, gray.Pixels.ToArray());

        using Image colour = Decode("P3 2 1 255 255 0 0 0 0 255");
        Assert.Equal(PixelFormat.Rgb24, colour.PixelFormat);
        Assert.Equal(new byte[] { 255, 0, 0, 0, 0, 255 }, colour.Pixels.ToArray());

        using Image noTrailingNewline = Decode("P2\n1 1\n255\n42");
        Assert.Equal(42, noTrailingNewline.Pixels[0]);

        using Image wide = Decode("P2 2 1 65535 65535 257");
        Assert.Equal(new byte[] { 255, 1 }, wide.Pixels.ToArray());
    }

    [Fact]
    public void RawFormatsTakeExactlyOneWhitespaceBeforeTheRaster()
    {
        // The raster's first byte is a newline character (10): it must be read as a sample, not skipped.
        byte[] data = [.. "P5\n# c\n2 1\n255\n"u8, 10, 200];
        using Image image = new PnmDecoder().Decode(data);
        Assert.Equal(new byte[] { 10, 200 }, image.Pixels.ToArray());

        byte[] wide = [.. "P5 1 2 65535\n"u8, 0x12, 0x34, 0xFF, 0xFF];
        using Image deep = new PnmDecoder().Decode(wide);
        Assert.Equal(new byte[] { (byte)Math.Round(0x1234 * 255.0 / 65535), 255 }, deep.Pixels.ToArray());
    }

    [Theory]
    [InlineData("P2\n2 2\n255\n1 2 3")]
    [InlineData("P2\n2 1\n10\n5 11")]
    [InlineData("P2\n2 1\n255\n5 x")]
    [InlineData("P3\n1 1\n255\n1 2")]
    [InlineData("P5\n2 2\n255\nab")]
    [InlineData("P5\n2 2\n0\n\0\0\0\0")]
    [InlineData("P5\n2 2\n70000\n")]
    [InlineData("P5\n0 2\n255\n")]
    [InlineData("P5\n99999999 99999999\n255\n")]
    [InlineData("P6\n1 1\n255")]
    [InlineData("P6\n")]
    [InlineData("P1\n1 1\n1")]
    [InlineData("P4\n1 1\n")]
    [InlineData("P7\nWIDTH 1\n")]
    [InlineData("P9 1 1 255 0")]
    [InlineData("")]
    public void MalformedFilesEndInTheDomainException(string text)
    {
        InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => Decode(text));
        Assert.Equal(ImageFormat.Pnm, ex.Format);
    }

    [Fact]
    public void RawSampleAboveMaxvalIsRejected()
    {
        byte[] data = [.. "P5 2 1 100\n"u8, 50, 101];
        Assert.Throws<InvalidImageContentException>(() => new PnmDecoder().Decode(data));
    }

    [Fact]
    public void IdentifyAndFacadeRecogniseTheFormats()
    {
        byte[] data = Encoding.ASCII.GetBytes("P6\n# c\n640 480\n65535\n");
        ImageInfo info = new PnmDecoder().Identify(data);
        Assert.Equal((640, 480, 3, 16, PixelFormat.Rgb24), (info.Width, info.Height, info.Channels, info.BitDepth, info.PixelFormat));
        Assert.Equal(ImageFormat.Pnm, ImageCodecs.DetectFormat(data));
        Assert.Equal(ImageFormat.Unknown, ImageCodecs.DetectFormat("P7\n"u8));
    }

    [Theory]
    [InlineData(".pgm", PixelFormat.Gray8)]
    [InlineData(".ppm", PixelFormat.Rgb24)]
    [InlineData(".pnm", PixelFormat.Rgb24)]
    [InlineData(".pgm", PixelFormat.Rgb24)]
    public void SavesThroughTheFacadeWithThePixelFormatDecidingTheMagic(string ext, PixelFormat format)
    {
        using Image source = Random(6, 5, format, 5);
        string path = Path.Combine(Path.GetTempPath(), $"pnm-{Guid.NewGuid():N}{ext}");
        try
        {
            ImageCodecs.Save(source, path);
            using Image loaded = ImageCodecs.Load(path);
            Assert.Equal(format, loaded.PixelFormat);
            Assert.Equal(source.Pixels.ToArray(), loaded.Pixels.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TruncationsEndInTheDomainException()
    {
        foreach (PixelFormat format in new[] { PixelFormat.Gray8, PixelFormat.Rgb24 })
        {
            using Image source = Random(9, 4, format, 6);
            byte[] data = Encode(source);
            for (int cut = 0; cut < data.Length; cut++)
            {
                Assert.Throws<InvalidImageContentException>(() => new PnmDecoder().Decode(data[..cut]));
            }
        }
    }

    [Fact]
    public void CorruptedHeadersAndPlainRastersDecodeOrFailCleanly()
    {
        Random rng = new(8);
        byte[][] inputs =
        [
            Encoding.ASCII.GetBytes("P2\n# c\n4 3\n1000\n0 1 2 3\n4 5 6 7\n8 9 999 1000\n"),
            Encoding.ASCII.GetBytes("P3 2 2 255 1 2 3 4 5 6 7 8 9 10 11 12"),
            [.. "P6\n2 2\n65535\n"u8, .. new byte[24]],
        ];
        foreach (byte[] good in inputs)
        {
            for (int k = 0; k < 500; k++)
            {
                byte[] bad = (byte[])good.Clone();
                bad[rng.Next(Math.Min(bad.Length, 40))] = (byte)rng.Next(256);
                try
                {
                    using Image image = new PnmDecoder().Decode(bad);
                }
                catch (InvalidImageContentException ex)
                {
                    Assert.Equal(ImageFormat.Pnm, ex.Format);
                }
            }
        }
    }
}

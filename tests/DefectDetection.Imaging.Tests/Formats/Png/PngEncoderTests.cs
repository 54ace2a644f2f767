using DefectDetection.Imaging.Formats.Png;

namespace DefectDetection.Imaging.Tests.Formats.Png;

public sealed class PngEncoderTests
{
    /// <summary>A test image mixing smooth gradients, noise and flat areas, so that every filter wins somewhere.</summary>
    internal static Image MakeImage(int width, int height, PixelFormat format, int seed)
    {
        Random rng = new(seed);
        Image image = Image.Create(width, height, format);
        int ch = image.Channels;
        for (int y = 0; y < height; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < ch; c++)
                {
                    int band = (y / 7) % 3;
                    row[(x * ch) + c] = band switch
                    {
                        0 => (byte)((x * (c + 1)) + y),
                        1 => (byte)rng.Next(256),
                        _ => (byte)(x < width / 2 ? 40 * c : 200),
                    };
                }
            }
        }

        return image;
    }

    public static TheoryData<PixelFormat, PngFilterStrategy, int> Cases()
    {
        TheoryData<PixelFormat, PngFilterStrategy, int> data = [];
        foreach (PixelFormat format in new[] { PixelFormat.Gray8, PixelFormat.Rgb24, PixelFormat.Rgba32 })
        {
            foreach (PngFilterStrategy strategy in Enum.GetValues<PngFilterStrategy>())
            {
                data.Add(format, strategy, 6);
            }

            data.Add(format, PngFilterStrategy.Adaptive, 0);
            data.Add(format, PngFilterStrategy.Adaptive, 1);
            data.Add(format, PngFilterStrategy.Adaptive, 9);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RoundTripsThroughOurDecoder(PixelFormat format, PngFilterStrategy strategy, int level)
    {
        using Image source = MakeImage(53, 29, format, seed: (int)format);
        byte[] png = Encode(source, new PngEncoderOptions { FilterStrategy = strategy, CompressionLevel = level });
        using Image decoded = new PngDecoder().Decode(png);
        Assert.Equal(format, decoded.PixelFormat);
        Assert.Equal(source.Pixels.ToArray(), decoded.Pixels.ToArray());
        AssertChunksValid(png);
    }

    [NetpbmTheory]
    [MemberData(nameof(Cases))]
    public void RoundTripsThroughPngtopam(PixelFormat format, PngFilterStrategy strategy, int level)
    {
        using Image source = MakeImage(53, 29, format, seed: (int)format);
        byte[] png = Encode(source, new PngEncoderOptions { FilterStrategy = strategy, CompressionLevel = level });
        PamImage reference = Netpbm.ParsePam(Netpbm.Run("pngtopam", "-alphapam", png));
        Pixels.AssertEqualRgba(Pixels.ToRgba(source), reference.ToRgba(), source.Width, "pngtopam");
    }

    [Fact]
    public void EncodesCropViewsWithoutTheirSurroundings()
    {
        using Image big = MakeImage(64, 48, PixelFormat.Rgb24, seed: 9);
        Rectangle region = new(5, 7, 31, 20);
        byte[] png = Encode(big.View(region), null);
        using Image decoded = new PngDecoder().Decode(png);
        using Image expected = big.View(region).ToImage();
        Assert.Equal((31, 20), (decoded.Width, decoded.Height));
        Assert.Equal(expected.Pixels.ToArray(), decoded.Pixels.ToArray());
    }

    [NetpbmFact]
    public void LargeImagesSpanSeveralIdatChunks()
    {
        using Image source = MakeImage(700, 500, PixelFormat.Rgba32, seed: 4);
        byte[] png = Encode(source, new PngEncoderOptions { CompressionLevel = 0 });
        Assert.True(PngChunks.List(png).Count(c => c.Name == "IDAT") > 1);
        using Image decoded = new PngDecoder().Decode(png);
        Assert.Equal(source.Pixels.ToArray(), decoded.Pixels.ToArray());
        PamImage reference = Netpbm.ParsePam(Netpbm.Run("pngtopam", "-alphapam", png));
        Pixels.AssertEqualRgba(Pixels.ToRgba(source), reference.ToRgba(), source.Width, "pngtopam");
    }

    [Fact]
    public void AdaptiveFilteringBeatsNoFilteringOnSmoothImages()
    {
        using Image source = Image.Create(256, 256, PixelFormat.Rgb24);
        for (int y = 0; y < 256; y++)
        {
            Span<byte> row = source.GetRow(y);
            for (int x = 0; x < 256; x++)
            {
                (row[3 * x], row[(3 * x) + 1], row[(3 * x) + 2]) = ((byte)x, (byte)y, (byte)((x + y) / 2));
            }
        }

        int adaptive = Encode(source, null).Length;
        int none = Encode(source, new PngEncoderOptions { FilterStrategy = PngFilterStrategy.None }).Length;
        Assert.True(adaptive < none, $"adaptive {adaptive} bytes, none {none} bytes");
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PngEncoderOptions { CompressionLevel = 10 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PngEncoderOptions { CompressionLevel = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PngEncoderOptions { FilterStrategy = (PngFilterStrategy)42 });
        Assert.Equal(3, PngEncoderOptions.Default.CompressionLevel);
        Assert.Equal(PngFilterStrategy.Adaptive, PngEncoderOptions.Default.FilterStrategy);
    }

    [Fact]
    public void SaveAndLoadThroughTheCodecFacade()
    {
        using Image source = MakeImage(17, 9, PixelFormat.Gray8, seed: 1);
        string path = Path.Combine(Path.GetTempPath(), $"png-{Guid.NewGuid():N}.png");
        try
        {
            ImageCodecs.Save(source, path);
            using Image loaded = ImageCodecs.Load(path);
            Assert.Equal(source.Pixels.ToArray(), loaded.Pixels.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Encode(ImageView image, PngEncoderOptions? options)
    {
        using MemoryStream stream = new();
        new PngEncoder(options).Encode(image, stream);
        return stream.ToArray();
    }

    /// <summary>Signature, IHDR first, IEND last, and every CRC right by the bitwise definition.</summary>
    private static void AssertChunksValid(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        List<(int Offset, int Length, string Name)> chunks = PngChunks.List(png);
        Assert.Equal("IHDR", chunks[0].Name);
        Assert.Equal("IEND", chunks[^1].Name);
        Assert.Equal(png.Length, chunks[^1].Offset + 12);
        foreach ((int offset, int length, string name) in chunks)
        {
            uint stored = (uint)((png[offset + 8 + length] << 24) | (png[offset + 9 + length] << 16) | (png[offset + 10 + length] << 8) | png[offset + 11 + length]);
            Assert.True(PngTestWriter.BitwiseCrc(png.AsSpan(offset + 4, length + 4)) == stored, $"CRC of {name} at {offset}");
        }
    }
}

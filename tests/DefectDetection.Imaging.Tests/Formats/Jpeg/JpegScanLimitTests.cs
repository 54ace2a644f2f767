using DefectDetection.Imaging.Formats.Jpeg;

namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary><see cref="DecoderOptions.MaxScans"/>: a file of many (empty, repeated) scans ends in the domain exception.</summary>
public sealed class JpegScanLimitTests
{
    private static readonly JpegDecoder Decoder = new();

    [Fact]
    public void AProgressiveFileWithinTheScanLimitDecodes()
    {
        (byte[] data, _) = MiniJpegEncoder.ProgressiveGrayWithEmptyScans(acScans: 9);
        using Image image = Decoder.Decode(data);
        Assert.Equal(PixelFormat.Gray8, image.PixelFormat);
        Assert.All(image.Pixels.ToArray(), p => Assert.Equal(136, p));
    }

    [Fact]
    public void ScansBeyondTheDefaultLimitEndInInvalidImageContentException()
    {
        Assert.Equal(1000, DecoderOptions.Default.MaxScans);
        (byte[] data, int[] scans) = MiniJpegEncoder.ProgressiveGrayWithEmptyScans(acScans: 1000);
        var e = Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(data));
        Assert.Equal(ImageFormat.Jpeg, e.Format);
        Assert.Equal(scans[1000], e.Offset);
        Assert.Contains("more than 1000 scans", e.Message, StringComparison.Ordinal);
        Assert.Contains("JPEG", e.Message, StringComparison.Ordinal);
        Assert.Contains(scans[1000].ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);

        // Raising the limit lets the same file through (the limit, not the data, stopped it).
        using Image image = Decoder.Decode(data, new DecoderOptions { MaxScans = 1001 });
        Assert.Equal(136, image.Pixels[0]);
    }

    [Fact]
    public void TheLimitIsConfigurableAndValidated()
    {
        (byte[] data, int[] scans) = MiniJpegEncoder.ProgressiveGrayWithEmptyScans(acScans: 5);
        var e = Assert.Throws<InvalidImageContentException>(() => Decoder.Decode(data, new DecoderOptions { MaxScans = 3 }));
        Assert.Equal(scans[3], e.Offset);
        Assert.Contains("more than 3 scans", e.Reason, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecoderOptions { MaxScans = 0 });
    }
}

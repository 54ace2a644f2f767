using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class TemplateDifferenceRoiDetectorTests
{
    // White board with black stripes (traces) every 12 pixels.
    private static Image Stripes(int shiftX = 0)
    {
        Image image = Image.Create(160, 120, PixelFormat.Gray8);
        for (int y = 0; y < image.Height; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < image.Width; x++)
            {
                row[x] = ((x - shiftX) % 12 + 12) % 12 < 5 ? (byte)0 : (byte)255;
            }
        }

        return image;
    }

    [Fact]
    public void FindsAddedAndRemovedCopperDespiteAOnePixelShift()
    {
        using Image reference = Stripes();
        using Image test = Stripes(shiftX: 1);

        // Extra copper (dark blob) on white at (30..35, 40..45) - columns 30..35 are white stripes shifted by 1? Use
        // a spot known white in both: x = 8..9 (mod 12 in 6..10 after shift).
        for (int y = 40; y < 46; y++)
        {
            test.GetRow(y)[8] = 0;
            test.GetRow(y)[9] = 0;
        }

        // A break (white) across a black stripe at x = 61..65 (stripe 60..64 shifted to 61..65), rows 80..83.
        for (int y = 80; y < 84; y++)
        {
            test.GetRow(y).Slice(61, 5).Fill(255);
        }

        TemplateDifferenceRoiDetector detector = new(reference, new TemplateDifferenceOptions { MinArea = 4, BoxMargin = 0 });
        IReadOnlyList<RegionOfInterest> rois = detector.Detect(test);
        Assert.Equal(2, rois.Count);
        RegionOfInterest dark = Assert.Single(rois, r => r.Label == TemplateDifferenceRoiDetector.Darker);
        RegionOfInterest bright = Assert.Single(rois, r => r.Label == TemplateDifferenceRoiDetector.Brighter);
        Assert.Equal(new Rectangle(8, 40, 2, 6), dark.Box);
        // With a tolerance of one pixel the break shows without its first and last column (each within one pixel of
        // an unbroken edge of the aligned reference).
        Assert.Equal(new Rectangle(62, 80, 3, 4), bright.Box);
    }

    [Fact]
    public void IdenticalImagesGiveNoRegionsAndSizesMustMatch()
    {
        using Image a = Stripes(), b = Stripes(), small = Image.Create(10, 10, PixelFormat.Gray8);
        TemplateDifferenceRoiDetector detector = new(null);
        Assert.Empty(detector.Detect(a, b));
        Assert.Throws<ArgumentException>(() => detector.Detect(a, small));
        Assert.Throws<InvalidOperationException>(() => detector.Detect(a));
    }
}

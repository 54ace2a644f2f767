using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;
using DefectDetection.Synthetic;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class TemplateMatchingRoiDetectorTests
{
    [Fact]
    public void FindsEveryPinOfAMovedNoisyBoardFromOneGoldenExample()
    {
        PcbBoardGenerator generator = new(new PcbBoardOptions
        {
            Width = 1400, Height = 1000, ComponentCount = 16, PixelsPerMm = 14,
            DefectKinds = [PcbDefectKinds.MissingHole], MinDefects = 2, MaxDefects = 2,
        }, 21);
        using Image golden = generator.RenderGolden();
        PcbPin example = generator.Layout.Pins.First(p => !p.Square);
        TemplateMatchingRoiDetector detector = TemplateMatchingRoiDetector.FromExample(
            golden, PcbBoardGenerator.PinBox(BoardTransform.Identity, example).Inflate(4),
            new TemplateMatchingOptions { ScoreThreshold = 0.35f, RotationsDegrees = [-1.5, 1.5], Label = "pin" });

        using SyntheticBoard board = generator.Generate(77);
        IReadOnlyList<RegionOfInterest> rois = detector.Detect(board.Image);

        int found = board.Pins.Count(p => rois.Any(r => Rectangle.IntersectionOverUnion(r.Box, p.Inflate(4)) > 0.5));
        Assert.Equal(board.Pins.Count, found);
        Assert.All(board.Defects, d => Assert.Contains(rois, r => Rectangle.IntersectionOverUnion(r.Box, d.Box.Inflate(4)) > 0.5));
        int falsePositives = rois.Count(r => !board.Pins.Any(p => Rectangle.IntersectionOverUnion(r.Box, p.Inflate(4)) > 0.5));
        Assert.True(falsePositives <= board.Pins.Count / 20, $"{falsePositives} false positives");
        Assert.All(rois, r => Assert.Equal("pin", r.Label));
    }

    [Fact]
    public void ExactCopyScoresOneAtTheRightPlaceAndNonMaximaAreSuppressed()
    {
        // A gray image with two copies of a cross pattern.
        using Image image = Image.Create(120, 80, PixelFormat.Gray8);
        image.Pixels.Fill(40);
        foreach ((int cx, int cy) in new[] { (30, 30), (90, 50) })
        {
            for (int d = -6; d <= 6; d++)
            {
                image.GetRow(cy)[cx + d] = 220;
                image.GetRow(cy + d)[cx] = 220;
                image.GetRow(cy + d)[cx + (d / 2)] = 150;
            }
        }

        TemplateMatchingRoiDetector detector = TemplateMatchingRoiDetector.FromExample(image, new Rectangle(22, 22, 17, 17),
            new TemplateMatchingOptions { ScoreThreshold = 0.9f });
        IReadOnlyList<RegionOfInterest> rois = detector.Detect(image);
        Assert.Equal(2, rois.Count);
        Assert.Contains(rois, r => r.Box == new Rectangle(22, 22, 17, 17) && r.Score > 0.999f);
        Assert.Contains(rois, r => r.Box == new Rectangle(82, 42, 17, 17) && r.Score > 0.999f);
    }

    [Fact]
    public void RejectsBadTemplatesAndOptions()
    {
        using Image flat = Image.Create(20, 20, PixelFormat.Gray8);
        Assert.Throws<ArgumentException>(() => new TemplateMatchingRoiDetector(flat));
        Assert.Throws<ArgumentOutOfRangeException>(() => TemplateMatchingRoiDetector.FromExample(flat, new Rectangle(15, 15, 10, 10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TemplateMatchingRoiDetector(flat, new TemplateMatchingOptions { ScoreThreshold = 2 }));
    }
}

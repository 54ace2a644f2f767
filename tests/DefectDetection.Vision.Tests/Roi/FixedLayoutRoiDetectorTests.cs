using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;
using DefectDetection.Synthetic;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class FixedLayoutRoiDetectorTests
{
    [Fact]
    public void RegistersARotatedShiftedBoardAndMovesEveryRegionWithIt()
    {
        PcbBoardOptions options = new() { Width = 1400, Height = 1000, ComponentCount = 16, PixelsPerMm = 14, MaxRotationDegrees = 1.5, MaxTranslation = 30 };
        PcbBoardGenerator generator = new(options, 8);
        using Image golden = generator.RenderGolden();
        // Fiducials: three pins far apart, with context.
        (IReadOnlyList<RegionOfInterest> layout, Rectangle[] fiducials) = generator.GoldenLayout();
        FixedLayoutRoiDetector detector = new(golden, layout, fiducials, new FixedLayoutOptions { EstimateScale = true });

        using SyntheticBoard board = generator.Generate(5, defective: false);
        IReadOnlyList<RegionOfInterest> rois = detector.Detect(board.Image);

        Assert.Equal(board.Pins.Count, rois.Count);
        for (int i = 0; i < rois.Count; i++)
        {
            double iou = Rectangle.IntersectionOverUnion(rois[i].Box, board.Pins[i]);
            Assert.True(iou > 0.7, $"pin {i}: registered {rois[i].Box} vs true {board.Pins[i]} (IoU {iou:F2})");
        }
    }

    [Fact]
    public void AMissingFiducialIsReportedWithItsScore()
    {
        using Image golden = Image.Create(200, 200, PixelFormat.Gray8);
        for (int y = 50; y < 60; y++)
        {
            golden.GetRow(y).Slice(50, 10).Fill(255);
            golden.GetRow(y + 5).Slice(52, 3).Fill(90);
        }

        FixedLayoutRoiDetector detector = new(golden, [new RegionOfInterest(new Rectangle(0, 0, 10, 10))], [new Rectangle(45, 45, 20, 20)]);
        using Image blank = Image.Create(200, 200, PixelFormat.Gray8);
        var ex = Assert.Throws<RegistrationException>(() => detector.Detect(blank));
        Assert.Contains("Fiducial 0", ex.Message);
    }
}

using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class SlidingWindowRoiDetectorTests
{
    [Theory]
    [InlineData(1000, 256, 0.25, new[] { 0, 192, 384, 576, 744 })]
    [InlineData(256, 256, 0.5, new[] { 0 })]
    [InlineData(300, 100, 0.0, new[] { 0, 100, 200 })]
    [InlineData(301, 100, 0.0, new[] { 0, 100, 200, 201 })]
    public void TileOriginsCoverTheAxisAndEndFlush(int length, int tile, double overlap, int[] expected) =>
        Assert.Equal(expected, SlidingWindowRoiDetector.Starts(length, tile, overlap).ToArray());

    [Fact]
    public void EveryPixelIsCoveredAndNoTileLeavesTheImage()
    {
        using Image image = Image.Create(517, 300, PixelFormat.Gray8);
        IReadOnlyList<RegionOfInterest> tiles = new SlidingWindowRoiDetector(new SlidingWindowOptions { TileWidth = 128, TileHeight = 96, Overlap = 0.3 }).Detect(image);
        int[] cover = new int[517 * 300];
        foreach (RegionOfInterest t in tiles)
        {
            Assert.True(image.Bounds.Contains(t.Box));
            Assert.Equal((128, 96), (t.Box.Width, t.Box.Height));
            for (int y = t.Box.Y; y < t.Box.Bottom; y++)
            {
                for (int x = t.Box.X; x < t.Box.Right; x++)
                {
                    cover[(y * 517) + x]++;
                }
            }
        }

        Assert.DoesNotContain(0, cover);
    }
}

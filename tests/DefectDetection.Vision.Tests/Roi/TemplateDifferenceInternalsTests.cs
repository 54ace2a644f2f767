using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class TemplateDifferenceInternalsTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 3, 0)]
    [InlineData(7, 3, 2)]
    [InlineData(17, 5, 1)]
    [InlineData(5, 17, 3)]
    [InlineData(64, 33, 2)]
    [InlineData(2, 40, 3)]
    public void MinMaxFilter_MatchesAPlainWindowScan(int w, int h, int r)
    {
        Random rng = new(w * 100 + h * 10 + r);
        byte[] src = new byte[w * h];
        rng.NextBytes(src);
        byte[] tmp = new byte[w * h + 5], dst = new byte[w * h + 5];
        foreach (bool min in (bool[])[true, false])
        {
            TemplateDifferenceRoiDetector.MinMaxFilter(src, w, h, r, min, tmp, dst);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int expected = min ? 255 : 0;
                    for (int yy = Math.Max(0, y - r); yy <= Math.Min(h - 1, y + r); yy++)
                    {
                        for (int xx = Math.Max(0, x - r); xx <= Math.Min(w - 1, x + r); xx++)
                        {
                            expected = min ? Math.Min(expected, src[(yy * w) + xx]) : Math.Max(expected, src[(yy * w) + xx]);
                        }
                    }

                    Assert.Equal(expected, dst[(y * w) + x]);
                }
            }
        }
    }

    [Fact]
    public void GrowToMinimum_CentresAndStaysInside()
    {
        Assert.Equal(new Rectangle(95, 195, 30, 30), TemplateDifferenceRoiDetector.GrowToMinimum(new Rectangle(105, 205, 10, 10), 30, 640, 640));
        Assert.Equal(new Rectangle(0, 0, 30, 30), TemplateDifferenceRoiDetector.GrowToMinimum(new Rectangle(0, 2, 4, 4), 30, 640, 640));
        Assert.Equal(new Rectangle(610, 610, 30, 30), TemplateDifferenceRoiDetector.GrowToMinimum(new Rectangle(636, 636, 4, 4), 30, 640, 640));
        Assert.Equal(new Rectangle(10, 95, 80, 30), TemplateDifferenceRoiDetector.GrowToMinimum(new Rectangle(10, 100, 80, 20), 30, 640, 640));
        Assert.Equal(new Rectangle(0, 0, 20, 20), TemplateDifferenceRoiDetector.GrowToMinimum(new Rectangle(5, 5, 2, 2), 30, 20, 20));
    }

    /// <summary>A board of dark rectangles (traces and pads) on light ground.</summary>
    internal static Image Board(int w, int h, int seed)
    {
        Image image = Image.Create(w, h, PixelFormat.Gray8);
        image.Pixels.Fill(255);
        Random rng = new(seed);
        for (int k = 0; k < 40; k++)
        {
            bool horizontal = rng.Next(2) == 0;
            int rw = horizontal ? rng.Next(40, 200) : rng.Next(6, 14), rh = horizontal ? rng.Next(6, 14) : rng.Next(40, 200);
            int x0 = rng.Next(0, w - 10), y0 = rng.Next(0, h - 10);
            for (int y = y0; y < Math.Min(h, y0 + rh); y++)
            {
                image.GetRow(y).Slice(x0, Math.Min(w, x0 + rw) - x0).Clear();
            }
        }

        return image;
    }

    [Theory]
    [InlineData(0, 0, 4)]
    [InlineData(3, -2, 4)]
    [InlineData(11, -7, 16)]
    [InlineData(-14, 9, 16)]
    public void Alignment_FindsLargeShifts(int dx, int dy, int maxShift)
    {
        using Image reference = Board(320, 240, 5);
        using Image test = Image.Create(320, 240, PixelFormat.Gray8);
        test.Pixels.Fill(255);
        // test(x, y) = reference(x + dx, y + dy)
        for (int y = 0; y < 240; y++)
        {
            for (int x = 0; x < 320; x++)
            {
                int rx = x + dx, ry = y + dy;
                if ((uint)rx < 320 && (uint)ry < 240)
                {
                    test.GetRow(y)[x] = reference.GetRow(ry)[rx];
                }
            }
        }

        Assert.Equal((dx, dy), ReferenceAlignment.Align(test.Pixels.ToArray(), reference.Pixels.ToArray(), 320, 240, maxShift));

        // The detector finds nothing once aligned (the borders uncovered by the shift are not compared).
        TemplateDifferenceRoiDetector detector = new(reference, new TemplateDifferenceOptions { MaxShift = maxShift });
        Assert.Empty(detector.Detect(test));
        Assert.Equal((dx, dy), ReferenceAlignment.Get(test, reference, maxShift)); // remembered
    }

    [Fact]
    public void MinBoxSize_GrowsSmallRegions()
    {
        using Image reference = Board(200, 200, 3);
        using Image test = reference.Clone();
        for (int y = 50; y < 54; y++)
        {
            for (int x = 60; x < 64; x++)
            {
                test.GetRow(y)[x] = (byte)(255 - reference.GetRow(y)[x]);
            }
        }

        TemplateDifferenceRoiDetector detector = new(reference, new TemplateDifferenceOptions { MinArea = 4, BoxMargin = 0, MinBoxSize = 24, MaxShift = 0, Tolerance = 0, MergeDistance = 0 });
        RegionOfInterest roi = Assert.Single(detector.Detect(test));
        Assert.Equal(new Rectangle(50, 40, 24, 24), roi.Box);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TemplateDifferenceRoiDetector(null, new TemplateDifferenceOptions { MinBoxSize = -1 }));
    }
}

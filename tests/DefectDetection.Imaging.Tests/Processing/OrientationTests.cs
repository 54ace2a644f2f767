using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class OrientationTests
{
    // 3x2 gray image:  1 2 3
    //                  4 5 6
    private static Image Sample() => Image.FromPixels(3, 2, PixelFormat.Gray8, [1, 2, 3, 4, 5, 6]);

    [Theory]
    [InlineData("flipH", 3, 2, new byte[] { 3, 2, 1, 6, 5, 4 })]
    [InlineData("flipV", 3, 2, new byte[] { 4, 5, 6, 1, 2, 3 })]
    [InlineData("rot90", 2, 3, new byte[] { 4, 1, 5, 2, 6, 3 })]
    [InlineData("rot180", 3, 2, new byte[] { 6, 5, 4, 3, 2, 1 })]
    [InlineData("rot270", 2, 3, new byte[] { 3, 6, 2, 5, 1, 4 })]
    [InlineData("transpose", 2, 3, new byte[] { 1, 4, 2, 5, 3, 6 })]
    [InlineData("transverse", 2, 3, new byte[] { 6, 3, 5, 2, 4, 1 })]
    public void TransformsMatchHandComputedResults(string op, int w, int h, byte[] expected)
    {
        using Image src = Sample();
        using Image result = op switch
        {
            "flipH" => Orientation.FlipHorizontal(src),
            "flipV" => Orientation.FlipVertical(src),
            "rot90" => Orientation.Rotate90(src),
            "rot180" => Orientation.Rotate180(src),
            "rot270" => Orientation.Rotate270(src),
            "transpose" => Orientation.Transpose(src),
            _ => Orientation.Transverse(src),
        };
        Assert.Equal((w, h), (result.Width, result.Height));
        Assert.Equal(expected, result.Pixels.ToArray());
    }

    [Fact]
    public void ExifOrientationSixRotatesClockwiseAndKeepsChannelsTogether()
    {
        // 2x1 RGB: red, green. Orientation 6 shows it rotated 90 degrees clockwise: red on top.
        using Image src = Image.FromPixels(2, 1, PixelFormat.Rgb24, [255, 0, 0, 0, 255, 0]);
        using Image upright = Orientation.ApplyExif(src, ExifOrientation.RightTop);
        Assert.Equal((1, 2), (upright.Width, upright.Height));
        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0 }, upright.Pixels.ToArray());
    }

    [Fact]
    public void ViewsCropWithoutCopyingAndCopyOnDemand()
    {
        using Image src = Sample();
        ImageView view = src.View(new Rectangle(1, 0, 2, 2));
        Assert.Equal(new byte[] { 2, 3 }, view.GetRow(0).ToArray());
        view.GetRow(1)[0] = 50;
        Assert.Equal(50, src.GetRow(1)[1]);
        using Image copy = view.ToImage();
        Assert.Equal(new byte[] { 2, 3, 50, 6 }, copy.Pixels.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => src.View(new Rectangle(2, 0, 2, 1)));
    }

    [Theory]
    [InlineData(PixelFormat.Gray8)]
    [InlineData(PixelFormat.Rgb24)]
    [InlineData(PixelFormat.Rgba32)]
    public void TransformsOfViewsSpanningSeveralTilesMatchTheirDefinitions(PixelFormat format)
    {
        using Image big = ResizeReference.RandomImage(80, 75, format, 4);
        ImageView src = big.View(new Rectangle(5, 3, 70, 37));
        int w = src.Width, h = src.Height, ch = src.Channels;
        // Output pixel (x, y) takes source pixel map(x, y).
        var ops = new (string Name, Func<ImageView, Image> Op, bool Swap, Func<int, int, (int, int)> Map)[]
        {
            ("flipH", Orientation.FlipHorizontal, false, (x, y) => (w - 1 - x, y)),
            ("flipV", Orientation.FlipVertical, false, (x, y) => (x, h - 1 - y)),
            ("rot180", Orientation.Rotate180, false, (x, y) => (w - 1 - x, h - 1 - y)),
            ("rot90", Orientation.Rotate90, true, (x, y) => (y, h - 1 - x)),
            ("rot270", Orientation.Rotate270, true, (x, y) => (w - 1 - y, x)),
            ("transpose", Orientation.Transpose, true, (x, y) => (y, x)),
            ("transverse", Orientation.Transverse, true, (x, y) => (w - 1 - y, h - 1 - x)),
        };
        foreach (var (name, op, swap, map) in ops)
        {
            using Image result = op(src);
            Assert.Equal(swap ? (h, w) : (w, h), (result.Width, result.Height));
            for (int y = 0; y < result.Height; y++)
            {
                for (int x = 0; x < result.Width; x++)
                {
                    (int sx, int sy) = map(x, y);
                    Assert.True(src.GetRow(sy).Slice(sx * ch, ch).SequenceEqual(result.GetRow(y).Slice(x * ch, ch)), $"{name} at ({x},{y})");
                }
            }
        }
    }
}

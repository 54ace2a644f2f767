using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class CroppingTests
{
    // 4x3 gray:  1  2  3  4
    //            5  6  7  8
    //            9 10 11 12
    private static Image Sample() => Image.FromPixels(4, 3, PixelFormat.Gray8, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    [Fact]
    public void CropCopiesTheRectangle()
    {
        using Image src = Sample();
        using Image crop = Cropping.Crop(src, new Rectangle(1, 1, 2, 2));
        Assert.Equal(new byte[] { 6, 7, 10, 11 }, crop.Pixels.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Cropping.Crop(src, new Rectangle(3, 0, 2, 1)));
    }

    [Theory]
    [InlineData(BorderMode.Constant, new byte[] { 0, 0, 1, 2, 3, 4, 0 })]
    [InlineData(BorderMode.Replicate, new byte[] { 1, 1, 1, 2, 3, 4, 4 })]
    [InlineData(BorderMode.Reflect, new byte[] { 2, 1, 1, 2, 3, 4, 4 })]
    [InlineData(BorderMode.Reflect101, new byte[] { 3, 2, 1, 2, 3, 4, 3 })]
    public void PadMakesUpBorderPixels(BorderMode mode, byte[] firstRow)
    {
        using Image src = Sample();
        using Image padded = Cropping.Pad(src, 2, 1, 1, 0, mode, Color.Black);
        Assert.Equal((7, 4), (padded.Width, padded.Height));
        // Row 1 of the result is source row 0; row 0 is made up from the border rule for y = -1.
        Assert.Equal(firstRow, padded.GetRow(1).ToArray());
        byte[] expectedTop = mode switch
        {
            BorderMode.Constant => new byte[7],
            BorderMode.Replicate or BorderMode.Reflect => firstRow,
            _ => padded.GetRow(2).ToArray(), // reflect101: y = -1 mirrors row 1
        };
        Assert.Equal(expectedTop, padded.GetRow(0).ToArray());
    }

    [Fact]
    public void BorderMapMatchesDefinitionsFarOutside()
    {
        // Reflect (period 2n): ...abcd|dcba|abcd... ; Reflect101 (period 2n-2): ...abcd cb abcd...
        int n = 4;
        for (int i = -20; i < 24; i++)
        {
            int m = ((i % 8) + 8) % 8;
            Assert.Equal(m < 4 ? m : 7 - m, Border.Map(i, n, BorderMode.Reflect));
            int m101 = ((i % 6) + 6) % 6;
            Assert.Equal(m101 < 4 ? m101 : 6 - m101, Border.Map(i, n, BorderMode.Reflect101));
            Assert.Equal(Math.Clamp(i, 0, 3), Border.Map(i, n, BorderMode.Replicate));
            Assert.Equal(i is >= 0 and < 4 ? i : -1, Border.Map(i, n, BorderMode.Constant));
        }

        Assert.Equal(0, Border.Map(-5, 1, BorderMode.Reflect101));
        Assert.Equal(0, Border.Map(7, 1, BorderMode.Reflect));
    }

    [Fact]
    public void CropWithContextKeepsTheBoxAtTheMarginNearBorders()
    {
        using Image src = ResizeReference.RandomImage(10, 8, PixelFormat.Rgb24, 1);
        var box = new Rectangle(0, 5, 4, 3); // touches the left and bottom edges
        using Image roi = Cropping.CropWithContext(src, box, 2, BorderMode.Constant, new Color(1, 2, 3));
        Assert.Equal((8, 7), (roi.Width, roi.Height));
        for (int y = 0; y < 7; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                int sx = x - 2 + box.X, sy = y - 2 + box.Y;
                byte[] expected = sx is >= 0 and < 10 && sy is >= 0 and < 8
                    ? src.GetRow(sy).Slice(sx * 3, 3).ToArray()
                    : [1, 2, 3];
                Assert.Equal(expected, roi.GetRow(y).Slice(x * 3, 3).ToArray());
            }
        }

        // Wholly outside, replicate: every pixel is the nearest corner.
        using Image far = Cropping.CropPadded(src, new Rectangle(20, -9, 3, 2), BorderMode.Replicate);
        byte[] corner = src.GetRow(0).Slice(9 * 3, 3).ToArray();
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(corner, far.Pixels.Slice(i * 3, 3).ToArray());
        }
    }

    [Fact]
    public void PadToCentresAndFillsRgba()
    {
        using Image src = Image.FromPixels(1, 1, PixelFormat.Rgba32, [9, 9, 9, 9]);
        using Image padded = Cropping.PadTo(src, 3, 2, LetterboxAlignment.Center, BorderMode.Constant, new Color(1, 2, 3, 4));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 9, 9, 9, 9, 1, 2, 3, 4 }, padded.GetRow(0).ToArray());
        Assert.Equal(new byte[] { 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4 }, padded.GetRow(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Cropping.PadTo(src, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cropping.Pad(src, -1, 0, 0, 0));
    }
}

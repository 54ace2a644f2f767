using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class HeatMapTests
{
    private static byte[] Entry(ColorMap map, int i) => ColorMapTables.Get(map).Slice(i * 3, 3).ToArray();

    [Fact]
    public void TablesHaveTheirPublishedEndsAndShapes()
    {
        // OpenCV COLORMAP_JET: starts at dark blue (0, 0, 128), ends at dark red (128, 0, 0), cyan-green-yellow between.
        Assert.Equal(new byte[] { 0, 0, 128 }, Entry(ColorMap.Jet, 0));
        Assert.Equal(new byte[] { 128, 0, 0 }, Entry(ColorMap.Jet, 255));
        Assert.Equal(255, Entry(ColorMap.Jet, 128)[1]);
        byte[] cyan = Entry(ColorMap.Jet, 96); // t = 3/8 is cyan
        Assert.True(cyan[0] < 5 && cyan[1] == 255 && cyan[2] > 250, string.Join(",", cyan));

        // Turbo's published table: (48, 18, 59) at 0, about (164, 252, 60)... at the middle, (122, 4, 3) at the end;
        // the polynomial fit is within ~35 levels of it.
        byte[] t0 = Entry(ColorMap.Turbo, 0), t255 = Entry(ColorMap.Turbo, 255);
        Assert.True(Math.Abs(t0[0] - 48) < 35 && Math.Abs(t0[1] - 18) < 35 && Math.Abs(t0[2] - 59) < 35, string.Join(",", t0));
        Assert.True(t255[0] > 100 && t255[1] < 30 && t255[2] < 30, string.Join(",", t255));
        Assert.True(Entry(ColorMap.Turbo, 128)[1] > 200);

        // Matplotlib hot: (0.0416, 0, 0) -> (11, 0, 0); white at the end; red full and green rising in the middle.
        Assert.Equal(new byte[] { 11, 0, 0 }, Entry(ColorMap.Hot, 0));
        Assert.Equal(new byte[] { 255, 255, 255 }, Entry(ColorMap.Hot, 255));
        Assert.Equal(new byte[] { 77, 77, 77 }, Entry(ColorMap.Gray, 77));
        Assert.Throws<ArgumentOutOfRangeException>(() => ColorMapTables.Get((ColorMap)99).Length);
    }

    [Fact]
    public void ColorizeMapsTheRangeToTheTable()
    {
        float[] map = [0f, 1f, float.NaN, 0.5f, -3f, 9f];
        using Image auto = HeatMap.Colorize(map.AsSpan(0, 2), 2, 1, ColorMap.Gray);
        Assert.Equal(new byte[] { 0, 0, 0, 255, 255, 255 }, auto.Pixels.ToArray());
        using Image fixedRange = HeatMap.Colorize(map, 3, 2, ColorMap.Gray, 0, 1);
        // 0 -> 0, 1 -> 255, NaN -> 0, 0.5 -> 127.5 -> 128, clamped below and above.
        Assert.Equal(new byte[] { 0, 255, 0, 128, 0, 255 }, fixedRange.Pixels.ToArray().Where((_, i) => i % 3 == 0).ToArray());
        Assert.Throws<ArgumentException>(() => HeatMap.Colorize(map, 4, 2));
    }

    [Fact]
    public void OverlayResizesTheMapAndBlends()
    {
        using Image gray = Image.FromPixels(4, 1, PixelFormat.Gray8, [100, 100, 100, 100]);
        // Opacity 1: the map alone. 2 -> 4 bilinear: [0, 0.25, 0.75, 1] -> 0, 63.75, 191.25, 255.
        using Image heat = HeatMap.Overlay(gray, [0f, 1f], 2, 1, new HeatMapOptions { ColorMap = ColorMap.Gray, Opacity = 1 });
        Assert.Equal(PixelFormat.Rgb24, heat.PixelFormat);
        Assert.Equal(new byte[] { 0, 64, 191, 255 }, heat.Pixels.ToArray().Where((_, i) => i % 3 == 0).ToArray());

        // Opacity 0.5 over the image: (100 + heat) / 2, rounded.
        using Image half = HeatMap.Overlay(gray, [0f, 1f], 2, 1, new HeatMapOptions { ColorMap = ColorMap.Gray, Opacity = 0.5f });
        Assert.Equal(new byte[] { 50, 82, 146, 178 }, half.Pixels.ToArray().Where((_, i) => i % 3 == 0).ToArray());

        // Opacity 0: the image as RGB.
        using Image rgb = Image.FromPixels(1, 1, PixelFormat.Rgba32, [1, 2, 3, 4]);
        using Image none = HeatMap.Overlay(rgb, [5f], 1, 1, new HeatMapOptions { Opacity = 0 });
        Assert.Equal(new byte[] { 1, 2, 3 }, none.Pixels.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatMap.Overlay(rgb, [5f], 1, 1, new HeatMapOptions { Opacity = 2 }));
    }

    [Fact]
    public void ContourOutlinesTheMask()
    {
        byte[] mask = new byte[25];
        for (int y = 1; y <= 3; y++)
        {
            for (int x = 1; x <= 3; x++)
            {
                mask[(y * 5) + x] = 1;
            }
        }

        using Image img = Image.Create(5, 5, PixelFormat.Gray8);
        HeatMap.DrawContour(img, mask, 5, 5, Color.White);
        byte[] px = img.Pixels.ToArray();
        Assert.Equal(8, px.Count(v => v == 255)); // the 3x3 ring without its centre
        Assert.Equal(0, px[12]);
        Assert.Equal(0, px[0]);

        // A 2x2 mask scaled to 4x4: the top-left quarter is inside, and all four of its pixels touch the outside.
        using Image big = Image.Create(4, 4, PixelFormat.Gray8);
        HeatMap.DrawContour(big, [1, 0, 0, 0], 2, 2, Color.White);
        Assert.Equal(new byte[] { 255, 255, 0, 0, 255, 255, 0, 0 }, big.Pixels.Slice(0, 8).ToArray());
        Assert.Equal(0, big.Pixels.ToArray().Skip(8).Count(v => v != 0));
    }
}

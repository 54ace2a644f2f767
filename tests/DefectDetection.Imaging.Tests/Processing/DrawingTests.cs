using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class DrawingTests
{
    private static int CountSet(Image image) => image.Pixels.ToArray().Count(b => b != 0);

    [Fact]
    public void FillRectangleClipsToTheImage()
    {
        using Image img = Image.Create(10, 8, PixelFormat.Rgb24);
        Drawing.FillRectangle(img, new Rectangle(-3, 6, 5, 10), new Color(1, 2, 3));
        Assert.Equal(2 * 2 * 3, CountSet(img)); // columns 0-1, rows 6-7
        Assert.Equal(new byte[] { 1, 2, 3 }, img.GetRow(7).Slice(3, 3).ToArray());
        Drawing.FillRectangle(img, new Rectangle(20, 20, 5, 5), Color.White); // outside: nothing
        Assert.Equal(12, CountSet(img));
    }

    [Fact]
    public void RectangleOutlineHasTheGivenThickness()
    {
        using Image img = Image.Create(12, 10, PixelFormat.Gray8);
        Drawing.DrawRectangle(img, new Rectangle(1, 1, 8, 6), Color.White, 2);
        // 8x6 box minus its 4x2 interior.
        Assert.Equal((8 * 6) - (4 * 2), CountSet(img));
        Assert.Equal(0, img.GetRow(3)[4]);
        Assert.Equal(255, img.GetRow(1)[1]);
        Assert.Equal(255, img.GetRow(6)[8]);
        Assert.Equal(0, img.GetRow(7)[8]);
    }

    [Fact]
    public void LinesFollowTheIdealLineWithOnePixelPerMajorStep()
    {
        var cases = new (int X0, int Y0, int X1, int Y1)[] { (0, 0, 9, 0), (2, 7, 2, 1), (0, 0, 7, 7), (1, 1, 4, 9), (9, 2, 0, 5) };
        foreach (var (x0, y0, x1, y1) in cases)
        {
            using Image img = Image.Create(10, 10, PixelFormat.Gray8);
            Drawing.DrawLine(img, x0, y0, x1, y1, Color.White);
            int major = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
            Assert.Equal(major + 1, CountSet(img));
            Assert.Equal(255, img.GetRow(y0)[x0]);
            Assert.Equal(255, img.GetRow(y1)[x1]);
            for (int y = 0; y < 10; y++)
            {
                for (int x = 0; x < 10; x++)
                {
                    if (img.GetRow(y)[x] == 0)
                    {
                        continue;
                    }

                    // Distance along the minor axis from the ideal line is at most half a pixel.
                    double dist = Math.Abs(((y1 - y0) * (x - x0)) - ((x1 - x0) * (y - y0))) / (double)major;
                    Assert.True(dist <= 0.5 + 1e-9, $"({x},{y}) is {dist} from line {x0},{y0}-{x1},{y1}");
                }
            }
        }
    }

    [Fact]
    public void VeryLongLinesAreClippedQuickly()
    {
        using Image img = Image.Create(10, 10, PixelFormat.Gray8);
        Drawing.DrawLine(img, int.MinValue / 2, 5, int.MaxValue / 2, 5, Color.White, 3);
        Assert.Equal(30, CountSet(img)); // rows 4-6 fully set
        Drawing.DrawLine(img, -1000000, -5, 1000000, -5, Color.White);
        Assert.Equal(30, CountSet(img));
    }

    [Fact]
    public void TextUsesTheFiveBySevenFont()
    {
        string[] h = ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"];
        string[] a = [".###.", "#...#", "#...#", "#...#", "#####", "#...#", "#...#"];
        using Image img = Image.Create(12, 8, PixelFormat.Gray8);
        Drawing.DrawText(img, 0, 0, "HA", Color.White);
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 12; x++)
            {
                bool expected = y < 7 && (x < 5 ? h[y][x] == '#' : x is >= 6 and < 11 && a[y][x - 6] == '#');
                Assert.Equal(expected, img.GetRow(y)[x] == 255);
            }
        }

        Assert.Equal((11, 7), Drawing.MeasureText("HA"));
        Assert.Equal((22, 30), Drawing.MeasureText("HA\nx", 2));
        Assert.Equal((0, 0), Drawing.MeasureText(string.Empty));
    }

    [Fact]
    public void FontCoversPrintableAsciiWithDistinctGlyphs()
    {
        var seen = new HashSet<string>();
        for (char c = ' '; c <= '~'; c++)
        {
            byte[] g = BitmapFont.Glyph(c).ToArray();
            Assert.All(g, b => Assert.True(b < 0x80, $"'{c}' uses an eighth row"));
            Assert.Equal(c == ' ', g.All(b => b == 0));
            Assert.True(seen.Add(Convert.ToHexString(g)), $"'{c}' duplicates another glyph");
        }

        Assert.Equal(BitmapFont.Glyph('?').ToArray(), BitmapFont.Glyph('\u00e9').ToArray());
    }

    [Fact]
    public void LabeledBoxPutsTheLabelAboveOrInside()
    {
        using Image img = Image.Create(60, 40, PixelFormat.Rgb24);
        Drawing.DrawLabeledBox(img, new Rectangle(10, 20, 30, 15), "ok", Color.Yellow);
        // Label background 2*6-1+2 = 13 wide, 7+2 = 9 high, directly above the box at (10, 11).
        Assert.Equal(new byte[] { 255, 255, 0 }, img.GetRow(11).Slice(10 * 3, 3).ToArray());
        Assert.Equal(new byte[] { 255, 255, 0 }, img.GetRow(19).Slice(22 * 3, 3).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0 }, img.GetRow(10).Slice(10 * 3, 3).ToArray());

        using Image top = Image.Create(60, 40, PixelFormat.Gray8);
        Drawing.DrawLabeledBox(top, new Rectangle(50, 0, 10, 10), "label", Color.White);
        // No room above: inside the top edge, shifted left to stay in the image (5*6-1+2 = 31 wide).
        Assert.Equal(255, top.GetRow(0)[29]);
        Assert.Equal(0, top.GetRow(0)[28]);
    }
}

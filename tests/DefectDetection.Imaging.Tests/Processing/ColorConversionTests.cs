using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class ColorConversionTests
{
    [Fact]
    public void LumaIsBt601RoundedWithinOneLevelOfTheExactValue()
    {
        int mismatches = 0;
        for (int r = 0; r < 256; r += 3)
        {
            for (int g = 0; g < 256; g++)
            {
                for (int b = 0; b < 256; b++)
                {
                    double exact = (0.299 * r) + (0.587 * g) + (0.114 * b);
                    int rounded = (int)Math.Floor(exact + 0.5);
                    int actual = ColorConversion.Luma(r, g, b);
                    if (actual != rounded)
                    {
                        mismatches++;
                        Assert.True(Math.Abs(actual - rounded) == 1 && Math.Abs(exact - Math.Floor(exact) - 0.5) < 0.002, $"{r},{g},{b}: {actual} vs {exact}");
                    }
                }
            }
        }

        Assert.True(mismatches < 86 * 65536 / 1000, $"{mismatches} mismatches"); // measured: 3256 of 5.6 million
    }

    [Fact]
    public void ConvertsBetweenFormats()
    {
        using Image rgb = Image.FromPixels(2, 1, PixelFormat.Rgb24, [255, 0, 0, 10, 200, 30]);
        using Image gray = ColorConversion.Convert(rgb, PixelFormat.Gray8);
        Assert.Equal(new byte[] { 76, 124 }, gray.Pixels.ToArray()); // 76.245; 2.99 + 117.4 + 3.42 = 123.81
        using Image rgba = ColorConversion.Convert(gray, PixelFormat.Rgba32);
        Assert.Equal(new byte[] { 76, 76, 76, 255, 124, 124, 124, 255 }, rgba.Pixels.ToArray());
        using Image back = ColorConversion.Convert(rgb, PixelFormat.Rgba32);
        Assert.Equal(new byte[] { 255, 0, 0, 255, 10, 200, 30, 255 }, back.Pixels.ToArray());
        using Image same = ColorConversion.Convert(rgb, PixelFormat.Rgb24);
        Assert.Equal(rgb.Pixels.ToArray(), same.Pixels.ToArray());
    }

    [Fact]
    public void RgbaToRgbDropsOrCompositesAlpha()
    {
        using Image rgba = Image.FromPixels(3, 1, PixelFormat.Rgba32, [200, 100, 0, 0, 200, 100, 0, 255, 200, 100, 0, 128]);
        using Image dropped = ColorConversion.Convert(rgba, PixelFormat.Rgb24);
        Assert.Equal(new byte[] { 200, 100, 0, 200, 100, 0, 200, 100, 0 }, dropped.Pixels.ToArray());
        using Image over = ColorConversion.Convert(rgba, PixelFormat.Rgb24, Color.White);
        // a = 128: (200*128 + 255*127 + 127)/255 = 227.4 -> 227; (100*128 + 255*127 + 127)/255 = 177.7 -> 177; 127.
        Assert.Equal(new byte[] { 255, 255, 255, 200, 100, 0, 227, 177, 127 }, over.Pixels.ToArray());
        using Image grayOver = ColorConversion.Convert(rgba, PixelFormat.Gray8, Color.Black);
        Assert.Equal(0, grayOver.Pixels[0]);
    }

    [Fact]
    public void SwapRedBlueSwapsOnlyFirstAndThirdChannels()
    {
        using Image rgba = Image.FromPixels(2, 1, PixelFormat.Rgba32, [1, 2, 3, 4, 5, 6, 7, 8]);
        using Image bgra = ColorConversion.SwapRedBlue(rgba.View(new Rectangle(0, 0, 2, 1)));
        Assert.Equal(new byte[] { 3, 2, 1, 4, 7, 6, 5, 8 }, bgra.Pixels.ToArray());
        using Image gray = Image.FromPixels(2, 1, PixelFormat.Gray8, [1, 2]);
        ColorConversion.SwapRedBlueInPlace(gray);
        Assert.Equal(new byte[] { 1, 2 }, gray.Pixels.ToArray());
    }

    [Fact]
    public void EveryFormatPairMatchesThePerPixelDefinition()
    {
        PixelFormat[] formats = [PixelFormat.Gray8, PixelFormat.Rgb24, PixelFormat.Rgba32];
        foreach (PixelFormat from in formats)
        {
            using Image src = ResizeReference.RandomImage(7, 3, from, (int)from);
            foreach (PixelFormat to in formats)
            {
                foreach (Color? bg in new Color?[] { null, new Color(10, 200, 30) })
                {
                    using Image dst = ColorConversion.Convert(src.View(new Rectangle(1, 1, 5, 2)), to, bg);
                    for (int y = 0; y < 2; y++)
                    {
                        for (int x = 0; x < 5; x++)
                        {
                            ReadOnlySpan<byte> p = src.GetRow(y + 1).Slice((x + 1) * src.Channels, src.Channels);
                            int r = p[0], g = p.Length > 1 ? p[1] : p[0], b = p.Length > 1 ? p[2] : p[0];
                            if (p.Length == 4 && bg is Color c && to != PixelFormat.Rgba32)
                            {
                                double a = p[3] / 255.0;
                                r = (int)Math.Round((r * a) + (c.R * (1 - a)));
                                g = (int)Math.Round((g * a) + (c.G * (1 - a)));
                                b = (int)Math.Round((b * a) + (c.B * (1 - a)));
                            }

                            byte[] expected = to switch
                            {
                                PixelFormat.Gray8 => from == PixelFormat.Gray8 ? [p[0]] : [(byte)Math.Round((0.299 * r) + (0.587 * g) + (0.114 * b))],
                                PixelFormat.Rgb24 => [(byte)r, (byte)g, (byte)b],
                                _ => [(byte)r, (byte)g, (byte)b, from == PixelFormat.Rgba32 ? p[3] : (byte)255],
                            };
                            byte[] actual = dst.GetRow(y).Slice(x * dst.Channels, dst.Channels).ToArray();
                            for (int i = 0; i < expected.Length; i++)
                            {
                                // One level for the rounding of the composite and of the fixed-point luma.
                                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1, $"{from}->{to} bg={bg} ({x},{y})[{i}]: {actual[i]} vs {expected[i]}");
                            }
                        }
                    }
                }
            }
        }
    }
}

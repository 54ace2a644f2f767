using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class ImageResizerTests
{
    public static TheoryData<int, int, int, int> Sizes => new()
    {
        { 1, 1, 1, 1 }, { 1, 1, 5, 3 }, { 1, 7, 4, 2 }, { 7, 1, 3, 1 }, { 1, 9, 1, 4 }, { 9, 1, 20, 1 },
        { 5, 5, 5, 5 }, { 4, 4, 2, 2 }, { 8, 6, 2, 3 }, { 10, 7, 3, 2 }, { 7, 5, 3, 4 }, { 13, 11, 29, 17 },
        { 3, 3, 8, 8 }, { 31, 17, 12, 7 }, { 40, 30, 15, 11 }, { 6, 9, 17, 4 }, { 37, 23, 37, 5 }, { 100, 3, 33, 3 },
        { 64, 48, 41, 33 }, { 5, 40, 40, 5 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void EightBitMatchesDirectFormulaWithinOneLevel(int w, int h, int ow, int oh)
    {
        foreach (ResizeMode mode in new[] { ResizeMode.Bilinear, ResizeMode.Area })
        {
            foreach (PixelFormat format in new[] { PixelFormat.Gray8, PixelFormat.Rgb24, PixelFormat.Rgba32 })
            {
                using Image src = ResizeReference.RandomImage(w, h, format, (w * 1000) + (h * 10) + ow);
                using Image dst = ImageResizer.Resize(src, ow, oh, mode);
                Assert.Equal((ow, oh, format), (dst.Width, dst.Height, dst.PixelFormat));
                double[] expected = ResizeReference.ResizeExact(src.Pixels, w, h, src.Channels, ow, oh, mode);
                ReadOnlySpan<byte> actual = dst.Pixels;
                for (int i = 0; i < expected.Length; i++)
                {
                    double diff = Math.Abs(actual[i] - expected[i]);
                    Assert.True(diff <= 0.5 + 1e-3 + 0.5, $"{mode} {format} {w}x{h}->{ow}x{oh} at {i}: {actual[i]} vs {expected[i]:F4}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void FloatMapMatchesDirectFormula(int w, int h, int ow, int oh)
    {
        var rng = new Random(w + (h * 7) + (ow * 31));
        float[] src = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
        foreach (ResizeMode mode in new[] { ResizeMode.Bilinear, ResizeMode.Area })
        {
            float[] dst = new float[ow * oh];
            ImageResizer.Resize(src, w, h, dst, ow, oh, mode);
            double[] expected = ResizeReference.ResizeExact(src, w, h, ow, oh, mode);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(dst[i] - expected[i]) <= 1e-4, $"{mode} {w}x{h}->{ow}x{oh} at {i}: {dst[i]} vs {expected[i]}");
            }
        }
    }

    [Fact]
    public void BilinearUpscaleMatchesHandComputedHalfPixelValues()
    {
        // Source x = (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        using Image src = Image.FromPixels(2, 1, PixelFormat.Gray8, [0, 100]);
        using Image dst = ImageResizer.Resize(src, 4, 1);
        Assert.Equal(new byte[] { 0, 25, 75, 100 }, dst.Pixels.ToArray());
    }

    [Fact]
    public void BilinearHalvingAveragesPairs()
    {
        // 2x downscale: source centre (2o + 1) - 0.5 = 2o + 0.5, the mean of pixels 2o and 2o + 1.
        using Image src = Image.FromPixels(4, 2, PixelFormat.Gray8, [10, 20, 30, 41, 50, 60, 70, 80]);
        using Image dst = ImageResizer.Resize(src, 2, 1);
        Assert.Equal(new byte[] { 35, 55 }, dst.Pixels.ToArray()); // (10+20+50+60)/4 = 35, (30+41+70+80)/4 = 55.25
    }

    [Fact]
    public void AreaAveragesBoxesWithFractionalCoverage()
    {
        using Image src = Image.FromPixels(3, 1, PixelFormat.Gray8, [0, 90, 180]);
        using Image dst = ImageResizer.Resize(src, 2, 1, ResizeMode.Area);
        // Ratio 1.5: [0,1.5) -> (0 + 0.5*90)/1.5 = 30; [1.5,3) -> (0.5*90 + 180)/1.5 = 150.
        Assert.Equal(new byte[] { 30, 150 }, dst.Pixels.ToArray());

        using Image rgb = Image.FromPixels(4, 1, PixelFormat.Rgb24, [10, 0, 255, 20, 0, 255, 30, 100, 0, 41, 100, 0]);
        using Image half = ImageResizer.Resize(rgb, 2, 1, ResizeMode.Area);
        Assert.Equal(new byte[] { 15, 0, 255, 36, 100, 0 }, half.Pixels.ToArray()); // 35.5 rounds half up
    }

    [Fact]
    public void AreaUpscaleFollowsOpenCvCellWeights()
    {
        // OpenCV INTER_AREA enlarging 2 -> 5 (scale 0.4): sx = floor(0.4 o), fx = (o+1) - (sx+1)*2.5 wrapped:
        // o=0: sx=0 fx=-1.5->0; o=1: sx=0 fx=-0.5->0; o=2: sx=0 fx=0.5; o=3: sx=1 clamped; o=4: sx=1.
        using Image src = Image.FromPixels(2, 1, PixelFormat.Gray8, [0, 200]);
        using Image dst = ImageResizer.Resize(src, 5, 1, ResizeMode.Area);
        Assert.Equal(new byte[] { 0, 0, 100, 200, 200 }, dst.Pixels.ToArray());
    }

    [Fact]
    public void ResizesViewsAndRejectsBadArguments()
    {
        using Image src = ResizeReference.RandomImage(20, 10, PixelFormat.Rgb24, 5);
        ImageView view = src.View(new Rectangle(3, 2, 9, 5));
        using Image crop = view.ToImage();
        using Image a = ImageResizer.Resize(view, 4, 3);
        using Image b = ImageResizer.Resize(crop, 4, 3);
        Assert.Equal(b.Pixels.ToArray(), a.Pixels.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageResizer.Resize(src, 0, 3));
        using Image gray = Image.Create(4, 3, PixelFormat.Gray8);
        Assert.Throws<ArgumentException>(() => ImageResizer.Resize(src, gray));
        Assert.Throws<ArgumentException>(() => ImageResizer.Resize(src.View(new Rectangle(0, 0, 5, 5)), src));
        Assert.Throws<ArgumentException>(() => ImageResizer.Resize(new float[5], 3, 2, new float[4], 2, 2));
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void VerticalKernelsMatchScalarForAllLengths(int bits)
    {
        var level = (SimdLevel)bits;
        var rng = new Random(42);
        for (int taps = 1; taps <= 5; taps++)
        {
            for (int n = 0; n <= 257; n++)
            {
                float[] ring = new float[(taps * n) + 3];
                for (int i = 0; i < ring.Length; i++)
                {
                    ring[i] = (float)(rng.NextDouble() * 300) - 20; // exercises both saturation ends
                }

                int[] offsets = Enumerable.Range(0, taps).Select(k => ((taps - 1 - k) * n) + (k == 0 ? 3 : 0)).ToArray();
                float[] w = Enumerable.Range(0, taps).Select(_ => (float)rng.NextDouble()).ToArray();
                byte[] expectedBytes = new byte[n], actualBytes = new byte[n];
                float[] expectedFloats = new float[n], actualFloats = new float[n];
                VerticalKernels.ToBytes(ring, offsets, w, expectedBytes, SimdLevel.Scalar);
                VerticalKernels.ToBytes(ring, offsets, w, actualBytes, level);
                VerticalKernels.ToFloats(ring, offsets, w, expectedFloats, SimdLevel.Scalar);
                VerticalKernels.ToFloats(ring, offsets, w, actualFloats, level);
                for (int x = 0; x < n; x++)
                {
                    double exact = 0;
                    for (int k = 0; k < taps; k++)
                    {
                        exact += (double)w[k] * ring[offsets[k] + x];
                    }

                    Assert.True(Math.Abs(expectedFloats[x] - exact) <= 1e-3, "scalar reference");
                    Assert.True(Math.Abs(actualFloats[x] - exact) <= 1e-3, $"floats taps={taps} n={n} x={x}");
                    Assert.True(Math.Abs(actualBytes[x] - expectedBytes[x]) <= 1, $"bytes taps={taps} n={n} x={x}");
                    Assert.Equal(Math.Clamp(Math.Floor(exact + 0.5), 0, 255), actualBytes[x], 1.0);
                }
            }
        }
    }

    [Theory]
    [InlineData(ResizeMode.Bilinear)]
    [InlineData(ResizeMode.Area)]
    public void HorizontalVectorPathMatchesScalarForAllWidths(ResizeMode mode)
    {
        var rng = new Random(7);
        foreach (int channels in new[] { 1, 3, 4 })
        {
            for (int inWidth = 1; inWidth <= 257; inWidth++)
            {
                int outWidth = 1 + rng.Next(Math.Max(1, inWidth * 2));
                byte[] src = new byte[inWidth * channels];
                rng.NextBytes(src);
                using ResampleTable tx = ResampleTable.Create(inWidth, outWidth, mode);
                float[] expected = new float[outWidth * channels], actual = new float[outWidth * channels];
                Resampler.Horizontal(src, channels, tx, expected, SimdLevel.Scalar);
                Resampler.Horizontal(src, channels, tx, actual, SimdLevel.Vector128);
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-3, $"ch={channels} {inWidth}->{outWidth} at {i}: {actual[i]} vs {expected[i]}");
                }

                // And the scalar path against the direct formula.
                for (int o = 0; o < outWidth; o++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        double direct = ResizeReference.AxisWeights(inWidth, outWidth, o, mode).Sum(t => t.Weight * src[(t.Index * channels) + c]);
                        Assert.True(Math.Abs(expected[(o * channels) + c] - direct) <= 1e-3, $"scalar ch={channels} {inWidth}->{outWidth} o={o}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(ResizeMode.Bilinear)]
    [InlineData(ResizeMode.Area)]
    public void FloatHorizontalVectorPathMatchesScalarForAllWidths(ResizeMode mode)
    {
        var rng = new Random(9);
        foreach (int channels in new[] { 1, 3, 4 })
        {
            for (int inWidth = 1; inWidth <= 257; inWidth++)
            {
                int outWidth = 1 + rng.Next(Math.Max(1, inWidth * 2));
                float[] src = Enumerable.Range(0, inWidth * channels).Select(_ => (float)(rng.NextDouble() * 255)).ToArray();
                using ResampleTable tx = ResampleTable.Create(inWidth, outWidth, mode);
                float[] expected = new float[outWidth * channels], actual = new float[outWidth * channels];
                Resampler.Horizontal(src, channels, tx, expected, SimdLevel.Scalar);
                Resampler.Horizontal(src, channels, tx, actual, SimdLevel.Vector128);
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-3, $"ch={channels} {inWidth}->{outWidth} at {i}");
                }
            }
        }
    }

    [Fact]
    public void ExtremeRatiosAverageOrSampleCorrectly()
    {
        using Image src = ResizeReference.RandomImage(1000, 301, PixelFormat.Rgb24, 99);
        using Image one = ImageResizer.Resize(src, 1, 1, ResizeMode.Area);
        for (int c = 0; c < 3; c++)
        {
            double mean = 0;
            for (int y = 0; y < 301; y++)
            {
                for (int x = 0; x < 1000; x++)
                {
                    mean += src.GetRow(y)[(x * 3) + c];
                }
            }

            mean /= 1000.0 * 301;
            Assert.Equal(Math.Floor(mean + 0.5), one.Pixels[c], 1.0);
        }

        // Bilinear to 1x1 samples the centre: x = 499.5 (between 499 and 500), y = 150.
        using Image centre = ImageResizer.Resize(src, 1, 1, ResizeMode.Bilinear);
        for (int c = 0; c < 3; c++)
        {
            double expected = (src.GetRow(150)[(499 * 3) + c] + src.GetRow(150)[(500 * 3) + c]) / 2.0;
            Assert.Equal(Math.Floor(expected + 0.5), centre.Pixels[c], 1.0);
        }

        // 1 -> 3000 pixels: every output is the single source pixel.
        using Image dot = Image.FromPixels(1, 1, PixelFormat.Rgba32, [1, 2, 3, 4]);
        using Image wide = ImageResizer.Resize(dot, 3000, 2, ResizeMode.Area);
        for (int i = 0; i < 6000; i++)
        {
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, wide.Pixels.Slice(i * 4, 4).ToArray());
        }
    }
}

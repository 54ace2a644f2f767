using DefectDetection.Imaging;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Tests.Features;

public class GradientHistogramFeatureExtractorTests
{
    /// <summary>Sinusoidal stripes whose intensity varies along the direction <paramref name="degrees"/>.</summary>
    internal static Image Stripes(int w, int h, double degrees, double period, double phase, PixelFormat format = PixelFormat.Gray8, int noiseSeed = 0)
    {
        Image image = Image.Create(w, h, format);
        double a = degrees * Math.PI / 180, c = Math.Cos(a), s = Math.Sin(a);
        Random rng = new(noiseSeed);
        int ch = image.Channels;
        for (int y = 0; y < h; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < w; x++)
            {
                double v = 128 + (90 * Math.Sin((2 * Math.PI * ((x * c) + (y * s)) / period) + phase)) + (noiseSeed == 0 ? 0 : 10 * (rng.NextDouble() - 0.5));
                byte b = (byte)Math.Clamp(Math.Round(v), 0, 255);
                for (int k = 0; k < Math.Min(ch, 3); k++)
                {
                    row[(x * ch) + k] = b;
                }

                if (ch == 4)
                {
                    row[(x * ch) + 3] = 255;
                }
            }
        }

        return image;
    }

    /// <summary>Reference area average in double precision, pixel by pixel over the covered source rectangle.</summary>
    private static double ReferenceArea(Image img, int s, int ox, int oy, int channel)
    {
        double rx = (double)img.Width / s, ry = (double)img.Height / s;
        double x0 = ox * rx, x1 = (ox + 1) * rx, y0 = oy * ry, y1 = (oy + 1) * ry, sum = 0;
        for (int y = (int)Math.Floor(y0); y < Math.Ceiling(y1) && y < img.Height; y++)
        {
            double wy = Math.Min(y1, y + 1) - Math.Max(y0, y);
            for (int x = (int)Math.Floor(x0); x < Math.Ceiling(x1) && x < img.Width; x++)
            {
                double wx = Math.Min(x1, x + 1) - Math.Max(x0, x);
                int c = img.Channels == 1 ? 0 : channel;
                sum += wx * wy * img.GetRow(y)[(x * img.Channels) + c];
            }
        }

        return sum / (rx * ry);
    }

    [Theory]
    [InlineData(64, 64, PixelFormat.Gray8)]
    [InlineData(100, 37, PixelFormat.Rgb24)]
    [InlineData(13, 200, PixelFormat.Rgba32)]
    [InlineData(7, 5, PixelFormat.Rgb24)]
    public void AreaResize_MatchesAScalarReference(int w, int h, PixelFormat format)
    {
        Random rng = new(w * h);
        using Image img = Image.Create(w, h, format);
        rng.NextBytes(img.Pixels);
        const int s = 16;
        float[] rgb = new float[s * s * 3];
        GradientHistogramFeatureExtractor.AreaResize(img, s, rgb);
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < s; y++)
            {
                for (int x = 0; x < s; x++)
                {
                    Assert.Equal(ReferenceArea(img, s, x, y, c), rgb[(c * s * s) + (y * s) + x], 2);
                }
            }
        }
    }

    [Fact]
    public void UnsignedAngle_MatchesFoldedAtan2()
    {
        for (int i = -40; i <= 40; i++)
        {
            for (int j = -40; j <= 40; j++)
            {
                float gx = i * 0.37f, gy = j * 1.13f;
                double reference = Math.Atan2(gy, gx);
                if (reference < 0)
                {
                    reference += Math.PI;
                }

                double actual = GradientHistogramFeatureExtractor.UnsignedAngle(gx, gy);
                // pi and 0 are the same unsigned orientation.
                double error = Math.Min(Math.Abs(actual - reference), Math.PI - Math.Abs(actual - reference));
                Assert.True(error < 2e-5, $"({gx}, {gy}): {actual} vs {reference}");
                Assert.InRange(actual, 0, Math.PI);
            }
        }
    }

    [Fact]
    public void AreaResize_OfAView_UsesOnlyTheViewedPixels()
    {
        using Image img = Image.Create(40, 40, PixelFormat.Gray8);
        img.Pixels.Fill(200);
        for (int y = 10; y < 26; y++)
        {
            img.GetRow(y).Slice(10, 16).Fill(50);
        }

        float[] rgb = new float[16 * 16 * 3];
        GradientHistogramFeatureExtractor.AreaResize(img.View(new Rectangle(10, 10, 16, 16)), 16, rgb);
        Assert.All(rgb, v => Assert.Equal(50f, v, 3));
    }

    [Fact]
    public void Features_HaveTheStatedLength_AndIdentityFollowsTheOptions()
    {
        GradientHistogramFeatureExtractor e = new();
        Assert.Equal((3 * 4 * 4 * 9) + 21 + 4, e.FeatureLength);
        Assert.NotEqual(e.Identity, new GradientHistogramFeatureExtractor(new GradientHistogramOptions { Grid = 3 }).Identity);
        Assert.Equal(e.Identity, new GradientHistogramFeatureExtractor().Identity);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientHistogramFeatureExtractor(new GradientHistogramOptions { Size = 32, Grid = 8, Scales = 3 }));
        using Image img = Stripes(50, 40, 0, 8, 0);
        Assert.Throws<ArgumentException>(() => e.Extract(img.View(), new float[3]));
    }

    [Fact]
    public void GrayAndColourCopiesOfAnImage_GiveTheSameFeatures()
    {
        GradientHistogramFeatureExtractor e = new();
        using Image gray = Stripes(90, 70, 30, 12, 0.3, PixelFormat.Gray8, noiseSeed: 3);
        using Image rgb = Stripes(90, 70, 30, 12, 0.3, PixelFormat.Rgb24, noiseSeed: 3);
        using Image rgba = Stripes(90, 70, 30, 12, 0.3, PixelFormat.Rgba32, noiseSeed: 3);
        float[] a = e.Extract(gray), b = e.Extract(rgb), c = e.Extract(rgba);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i], b[i], 3);
            Assert.Equal(a[i], c[i], 3);
        }
    }

    [Fact]
    public void ColourStatistics_OfAFlatImage_AreItsValue()
    {
        using Image img = Image.Create(30, 30, PixelFormat.Rgb24);
        for (int i = 0; i < img.Pixels.Length; i += 3)
        {
            img.Pixels[i] = 255;
            img.Pixels[i + 1] = 51;
            img.Pixels[i + 2] = 0;
        }

        GradientHistogramFeatureExtractor e = new();
        float[] f = e.Extract(img);
        int hog = 3 * 4 * 4 * 9;
        Assert.All(f[..hog], v => Assert.Equal(0f, v, 5)); // no gradients
        float[] expected = [1f, 0.2f, 0f];
        for (int c = 0; c < 3; c++)
        {
            Span<float> stats = f.AsSpan(hog + (7 * c), 7);
            Assert.Equal(expected[c], stats[0], 4); // mean
            Assert.Equal(0f, stats[1], 4); // std
            for (int q = 2; q < 7; q++)
            {
                Assert.Equal(expected[c], stats[q], 4); // percentiles
            }
        }

        Assert.All(f[^4..], v => Assert.Equal(0f, v, 5)); // no local contrast
    }

    [Fact]
    public void StripesAtDifferentAngles_SeparateCleanly()
    {
        GradientHistogramFeatureExtractor e = new();
        double[] angles = [0, 45, 90, 135];
        List<float[]> x = [];
        List<string> y = [];
        List<float[]> testX = [];
        List<string> testY = [];
        int seed = 1;
        foreach (double angle in angles)
        {
            for (int i = 0; i < 8; i++)
            {
                // Different sizes, periods and phases: only the orientation is shared.
                using Image img = Stripes(60 + (i * 13), 50 + (i * 7), angle, 9 + i, i * 0.7, PixelFormat.Gray8, seed++);
                (i < 6 ? x : testX).Add(e.Extract(img));
                (i < 6 ? y : testY).Add(angle.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        SoftmaxClassifierModel model = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { ValidationFraction = 0 }).Fit(x, y);
        for (int i = 0; i < testX.Count; i++)
        {
            Assert.Equal(testY[i], model.Predict(testX[i]).Label);
        }

        // Nearest class centroid agrees, without any training.
        float[][] centroids = [.. angles.Select((_, k) => Mean(x.Where((_, i) => i / 6 == k)))];
        for (int i = 0; i < testX.Count; i++)
        {
            int nearest = Enumerable.Range(0, centroids.Length).MinBy(k => Distance(testX[i], centroids[k]));
            Assert.Equal(i / 2, nearest);
        }
    }

    [Fact]
    public void ExtractBatch_EqualsOneByOne()
    {
        GradientHistogramFeatureExtractor e = new();
        using Image a = Stripes(40, 60, 10, 7, 0, PixelFormat.Rgb24, 1);
        using Image b = Stripes(70, 30, 80, 5, 1, PixelFormat.Gray8, 2);
        float[][] batch = ((IFeatureExtractor)e).ExtractBatch([a.View(), b.View()]);
        Assert.Equal(e.Extract(a), batch[0]);
        Assert.Equal(e.Extract(b), batch[1]);
    }

    private static float[] Mean(IEnumerable<float[]> rows)
    {
        float[][] r = rows.ToArray();
        return [.. Enumerable.Range(0, r[0].Length).Select(j => r.Average(v => v[j]))];
    }

    private static double Distance(float[] a, float[] b) => a.Zip(b, (p, q) => (double)(p - q) * (p - q)).Sum();
}

using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class FilterTests
{
    private static double[] DirectBlur(float[] src, int w, int h, double sigma, int radius, BorderMode border)
    {
        double[] k = new double[(2 * radius) + 1];
        for (int i = -radius; i <= radius; i++)
        {
            k[i + radius] = Math.Exp(-(i * i) / (2 * sigma * sigma));
        }

        double sum = k.Sum();
        var result = new double[w * h];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                double acc = 0;
                for (int j = -radius; j <= radius; j++)
                {
                    for (int i = -radius; i <= radius; i++)
                    {
                        int sx = Border.Map(x + i, w, border), sy = Border.Map(y + j, h, border);
                        double v = sx < 0 || sy < 0 ? 0 : src[(sy * w) + sx];
                        acc += k[i + radius] * k[j + radius] / (sum * sum) * v;
                    }
                }

                result[(y * w) + x] = acc;
            }
        }

        return result;
    }

    [Fact]
    public void BlurMatchesDirectConvolutionForAllWidths()
    {
        var rng = new Random(3);
        for (int w = 1; w <= 257; w++)
        {
            int h = 1 + (w % 3);
            float[] src = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
            float[] dst = new float[w * h];
            GaussianBlur.Apply(src, w, h, dst, 0.8f, 0, BorderMode.Reflect101);
            double[] expected = DirectBlur(src, w, h, 0.8, 3, BorderMode.Reflect101);
            for (int i = 0; i < dst.Length; i++)
            {
                Assert.True(Math.Abs(dst[i] - expected[i]) < 1e-5, $"w={w} i={i}: {dst[i]} vs {expected[i]}");
            }
        }
    }

    [Theory]
    [InlineData(BorderMode.Constant)]
    [InlineData(BorderMode.Replicate)]
    [InlineData(BorderMode.Reflect)]
    [InlineData(BorderMode.Reflect101)]
    public void BlurHandlesEveryBorderAndInPlace(BorderMode border)
    {
        var rng = new Random((int)border);
        int w = 13, h = 9;
        float[] src = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble() * 10).ToArray();
        double[] expected = DirectBlur(src, w, h, 2.0, 6, border); // radius larger than the height
        GaussianBlur.Apply(src, w, h, src, 2.0f, 6, border);
        for (int i = 0; i < src.Length; i++)
        {
            Assert.True(Math.Abs(src[i] - expected[i]) < 1e-4, $"{border} i={i}: {src[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void BlurredImpulseIsTheSampledGaussian()
    {
        int n = 41;
        float[] map = new float[n * n];
        map[(20 * n) + 20] = 1;
        GaussianBlur.Apply(map, n, n, map, 2f);
        // Centre: 1 / (2 pi sigma^2) (tails beyond 4 sigma are negligible); total mass stays 1.
        Assert.Equal(1 / (2 * Math.PI * 4), map[(20 * n) + 20], 4);
        Assert.Equal(1.0, map.Sum(v => (double)v), 5);
        Assert.Equal(0f, map[0]); // beyond radius 8
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianBlur.Apply(map, n, n, map, 0f));
        Assert.Throws<ArgumentException>(() => GaussianBlur.Apply(map, n + 1, n, map, 1f));
    }

    [Fact]
    public void IntegralImageGivesExactBoxSums()
    {
        using Image img = ResizeReference.RandomImage(37, 23, PixelFormat.Gray8, 8);
        ImageView view = img.View(new Rectangle(2, 3, 33, 19));
        using IntegralImage ii = IntegralImage.Create(view);
        Assert.Equal((33, 19, 34), (ii.Width, ii.Height, ii.Stride));
        var rng = new Random(1);
        for (int t = 0; t < 300; t++)
        {
            int x = rng.Next(33), y = rng.Next(19);
            var r = new Rectangle(x, y, rng.Next(34 - x), rng.Next(20 - y));
            long s = 0, q = 0;
            var values = new List<double>();
            for (int yy = r.Y; yy < r.Bottom; yy++)
            {
                for (int xx = r.X; xx < r.Right; xx++)
                {
                    int v = view.GetRow(yy)[xx];
                    s += v;
                    q += v * v;
                    values.Add(v);
                }
            }

            Assert.Equal(s, ii.Sum(r));
            Assert.Equal(q, ii.SquaredSum(r));
            if (values.Count > 0)
            {
                double mean = values.Average();
                Assert.Equal(mean, ii.Mean(r), 9);
                Assert.Equal(values.Sum(v => (v - mean) * (v - mean)) / values.Count, ii.Variance(r), 6);
            }
        }

        Assert.Equal(ii.Sum(new Rectangle(0, 0, 33, 19)), ii.Sums[(19 * 34) + 33]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ii.Sum(new Rectangle(1, 0, 33, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ii.Mean(new Rectangle(1, 1, 0, 1)));
        using Image rgb = Image.Create(2, 2, PixelFormat.Rgb24);
        Assert.Throws<ArgumentException>(() => IntegralImage.Create(rgb));
    }
}

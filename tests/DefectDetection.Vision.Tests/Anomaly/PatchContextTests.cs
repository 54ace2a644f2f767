using DefectDetection.Vision.Backbones;
using DefectDetection.Imaging;
using DefectDetection.Testing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>The intensity context of <see cref="PatchCoreOptions.ContextWeight"/>: feature math, Gaussian, model files.</summary>
public sealed class PatchContextTests
{
    private const int D = PatchContext.Dimension;

    private static string Backbone => SharedData.MobileNetV2Qdq;

    [Fact]
    public void ResidualsAreDifferencesToTheColumnAndRowMedians()
    {
        // 3 x 2 grid:  1 5 2
        //              4 0 9
        float[] cells = [1, 5, 2, 4, 0, 9];
        float[] dest = new float[6 * D];
        PatchContext.Residuals(cells, 3, 2, dest, 2);

        // Column medians (two values: their mean): 2.5, 2.5, 5.5. Row medians: 2, 4.
        float[] column = [1 - 2.5f, 5 - 2.5f, 2 - 5.5f, 4 - 2.5f, 0 - 2.5f, 9 - 5.5f];
        float[] row = [1 - 2, 5 - 2, 2 - 2, 4 - 4, 0 - 4, 9 - 4];
        for (int p = 0; p < 6; p++)
        {
            Assert.Equal(column[p], dest[(p * D) + 2], 6);
            Assert.Equal(row[p], dest[(p * D) + 3], 6);
            Assert.Equal(0, dest[p * D]);
        }
    }

    [Fact]
    public void InvertGivesTheIdentity()
    {
        const int n = 6;
        var rng = new Random(7);
        double[] a = new double[n * n];
        double[] m = new double[n * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = rng.NextDouble() - 0.5;
        }

        // m = a a^T + I: symmetric positive definite.
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = i == j ? 1 : 0;
                for (int k = 0; k < n; k++)
                {
                    s += a[(i * n) + k] * a[(j * n) + k];
                }

                m[(i * n) + j] = s;
            }
        }

        double[] inv = PatchContext.Invert(m, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += m[(i * n) + k] * inv[(k * n) + j];
                }

                Assert.Equal(i == j ? 1 : 0, s, 9);
            }
        }
    }

    [Fact]
    public void GaussianScoreIsTheMahalanobisDistance()
    {
        // Rows whose feature k is +-s_k in all sign combinations of features 0 and 1 (others constant 3): mean (0, 0, 3..),
        // no covariance, variance s_k^2 * n / (n - 1) for k < 2 and 0 (plus the ridge) for the constant features.
        float[] s = [0.5f, 2f];
        int n = 8;
        float[] rows = new float[n * D];
        for (int r = 0; r < n; r++)
        {
            rows[r * D] = (r & 1) == 0 ? s[0] : -s[0];
            rows[(r * D) + 1] = (r & 2) == 0 ? s[1] : -s[1];
            for (int k = 2; k < D; k++)
            {
                rows[(r * D) + k] = 3;
            }
        }

        float[] model = PatchContext.Fit(rows);
        Assert.Equal(PatchContext.ModelLength, model.Length);
        double v0 = s[0] * s[0] * n / (n - 1.0), v1 = s[1] * s[1] * n / (n - 1.0);
        double ridge = 1e-3 * (v0 + v1) / D;
        float[] query = [1, -1, 3, 3, 3, 3];
        float[] score = new float[1];
        PatchContext.Score(query, model, score);
        double expected = Math.Sqrt((1 / (v0 + ridge)) + (1 / (v1 + ridge)));
        Assert.Equal(expected, score[0], 3);

        // A feature that never varied in the normals weighs by 1 / ridge: far more than the same step on a varied one.
        float[] off = [0, 0, 3.1f, 3, 3, 3];
        PatchContext.Score(off, model, score);
        Assert.Equal(0.1 / Math.Sqrt(ridge), score[0], 2);
    }

    [Fact]
    public void ABrightBandStandsOutAgainstItsColumnsAndVerticalStreaksRaiseTheAnisotropy()
    {
        const int gw = 8, gh = 8, size = 64;
        using Image image = Image.Create(size, size, PixelFormat.Gray8);
        for (int y = 0; y < size; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < size; x++)
            {
                // Vertical streaks (2 columns dark, 2 bright) everywhere; rows 0..15 (cells 0..1) 1.5x brighter.
                int v = x % 4 < 2 ? 90 : 110;
                row[x] = (byte)(y < 16 ? v * 3 / 2 : v);
            }
        }

        float[] f = new float[gw * gh * D];
        PatchContext.Features(image.View(), gw, gh, f);
        for (int p = 0; p < gw * gh; p++)
        {
            int y = p / gw;
            Assert.True(f[(p * D) + 1] > 0.5, $"anisotropy {f[(p * D) + 1]} at cell {p}");
            Assert.Equal(0, f[(p * D) + 3], 2); // the band spans whole rows: nothing against the row median
            if (y == 0)
            {
                Assert.InRange(f[(p * D) + 2], 0.2, 0.45); // ln 1.5 = 0.405 before the smoothing across the band's edge
            }
            else if (y >= 5)
            {
                // Away from the band's edge (whose vertical step adds vertical gradient energy) the streaks dominate:
                // horizontal differences 20^2 against none.
                Assert.InRange(f[(p * D) + 2], -0.06, 0.06);
                Assert.True(f[(p * D) + 1] > 3, $"anisotropy {f[(p * D) + 1]} at cell {p}");
            }
        }
    }

    [Fact]
    public void OptionsRejectANegativeWeight() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile("x.onnx"), ContextWeight = -1 }));

    [SharedFact]
    public void ContextRaisesAnUnevenBandAndSurvivesSaveLoad()
    {
        List<Image> normals = Enumerable.Range(0, 5).Select(i => Streaks(i, band: false)).ToList();
        using Image test = Streaks(99, band: true);
        var plain = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.25, BorderPatches = 2 };
        var withContext = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.25, BorderPatches = 2, ContextWeight = 1 };
        using PatchCoreModel a = new PatchCoreTrainer(plain).Fit(normals.Select(x => x.View()).ToList());
        using PatchCoreModel b = new PatchCoreTrainer(withContext).Fit(normals.Select(x => x.View()).ToList());
        DefectPrediction pa = a.Predict(test.View());
        DefectPrediction pb = b.Predict(test.View());
        Assert.True(BandContrast(pb) > BandContrast(pa) + 0.1, $"band / rest {BandContrast(pb)} with context, {BandContrast(pa)} without");

        string path = Path.Combine(Path.GetTempPath(), $"patchcore-context-{Guid.NewGuid():N}.ddmodel");
        try
        {
            b.Save(path);
            using PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 });
            Assert.Equal(pb.Score, loaded.Predict(test.View()).Score, 5);
            a.Save(path, new DefectModelSaveOptions { Overwrite = true });
            using PatchCoreModel plainLoaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 });
            Assert.Equal(pa.Score, plainLoaded.Predict(test.View()).Score, 5);
        }
        finally
        {
            File.Delete(path);
            normals.ForEach(x => x.Dispose());
        }

        // Mean map value inside the band (rows 40%..60%) over the mean of rows away from it (20%..30% and 70%..80%).
        static double BandContrast(DefectPrediction p)
        {
            double inside = 0, outside = 0;
            int ni = 0, no = 0;
            for (int y = 0; y < p.ImageHeight; y++)
            {
                double f = (double)y / p.ImageHeight;
                bool isIn = f is >= 0.4 and < 0.6, isOut = f is (>= 0.2 and < 0.3) or (>= 0.7 and < 0.8);
                for (int x = p.ImageWidth / 5; x < p.ImageWidth * 4 / 5; x++)
                {
                    float v = p.AnomalyMap!.Values[(y * p.ImageWidth) + x];
                    if (isIn)
                    {
                        inside += v;
                        ni++;
                    }
                    else if (isOut)
                    {
                        outside += v;
                        no++;
                    }
                }
            }

            return (inside / ni) / (outside / no);
        }
    }

    /// <summary>A tile-like texture; with a band, rows 40%..60% are brighter with stronger streaks.</summary>
    private static Image Streaks(int seed, bool band)
    {
        const int h = 300;
        return StreakTexture.Create(seed, 200, h, y => band && y >= h * 2 / 5 && y < h * 3 / 5 ? new StreakStyle(120, 40, 1) : new StreakStyle(90, 12, 1));
    }
}

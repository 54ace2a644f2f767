using DefectDetection.Metrics;

namespace DefectDetection.Core.Tests.Metrics;

public class PixelMetricsTests
{
    [Fact]
    public void Auroc_Exact_EqualsTheImageLevelAuc_OfAllPixels()
    {
        Random rng = new(11);
        List<AnomalyMapSample> samples = [];
        List<double> allScores = [];
        List<bool> allLabels = [];
        for (int k = 0; k < 4; k++)
        {
            int w = 7 + k, h = 5;
            float[] s = new float[w * h];
            byte[] m = new byte[w * h];
            for (int i = 0; i < s.Length; i++)
            {
                m[i] = (byte)(rng.NextDouble() < 0.3 ? 255 : 0);
                s[i] = (float)Math.Round((rng.NextDouble() + (m[i] != 0 ? 0.4 : 0)) * 10) / 10; // many ties
                allScores.Add(s[i]);
                allLabels.Add(m[i] != 0);
            }

            samples.Add(new AnomalyMapSample(s, m, w, h));
        }

        double reference = BinaryMetrics.RocAuc(allScores.ToArray(), allLabels.ToArray());
        Assert.Equal(reference, PixelMetrics.Auroc(samples, bins: 0), 10);
        // Scores on a 0.1 grid fall into distinct bins, so binning changes nothing here.
        Assert.Equal(reference, PixelMetrics.Auroc(samples, bins: 4096), 6);
    }

    [Fact]
    public void Auroc_Binned_IsCloseToExact_OnContinuousScores()
    {
        Random rng = new(5);
        float[] s = new float[10000];
        byte[] m = new byte[10000];
        for (int i = 0; i < s.Length; i++)
        {
            m[i] = (byte)(i % 7 == 0 ? 1 : 0);
            s[i] = (float)(rng.NextDouble() + (m[i] != 0 ? 0.5 : 0));
        }

        AnomalyMapSample[] samples = [new(s, m, 100, 100)];
        Assert.Equal(PixelMetrics.Auroc(samples, 0), PixelMetrics.Auroc(samples, 4096), 3);
    }

    [Fact]
    public void Aupro_HandComputed()
    {
        // One row: region A = pixel 0 (size 1), region B = pixels 2..4 (size 3), negatives = pixels 1 and 5.
        byte[] mask = [1, 0, 1, 1, 1, 0];
        float[] scores = [0.9f, 0.5f, 0.8f, 0.3f, 0.3f, 0.1f];
        AnomalyMapSample[] samples = [new(scores, mask, 6, 1)];
        // Curve (FPR, PRO): (0, 0.5) at 0.9, (0, 2/3) at 0.8, (0.5, 2/3) at 0.5, (0.5, 1) at 0.3, (1, 1) at 0.1.
        Assert.Equal((0.5 * 2 / 3.0) + 0.5, PixelMetrics.Aupro(samples, maxFpr: 1, bins: 0), 6);
        // Up to FPR 0.3: 0.3 x 2/3, normalised by 0.3.
        Assert.Equal(2 / 3.0, PixelMetrics.Aupro(samples, maxFpr: 0.3, bins: 0), 6);
        Assert.Equal(2 / 3.0, PixelMetrics.Aupro(samples, maxFpr: 0.3, bins: 256), 6);
    }

    [Fact]
    public void Aupro_RegionsOfSeveralMapsKeepTheirOwnSizes()
    {
        // Map A: a 1-pixel region (score 0.9) and negatives at 0.1. Map B: a 2-pixel region (0.8, 0.2), negatives 0.3 and 0.1.
        // PRO is the mean over the two regions of the fraction of each region above the threshold; 5 negatives in all.
        // Thresholds: 0.9 -> PRO 1/2, FPR 0; 0.8 -> PRO 3/4; 0.3 -> FPR 1/5; 0.2 -> PRO 1; 0.1 -> FPR 1.
        // Area up to FPR 1: 0.2 * 0.75 + 0.8 * 1 = 0.95.
        AnomalyMapSample a = new([0.9f, 0.1f, 0.1f, 0.1f], [1, 0, 0, 0], 2, 2);
        AnomalyMapSample b = new([0.8f, 0.2f, 0.3f, 0.1f], [1, 1, 0, 0], 2, 2);
        Assert.Equal(0.95, PixelMetrics.Aupro([a, b], maxFpr: 1, bins: 0), 6);
        Assert.Equal(0.95, PixelMetrics.Aupro([b, a], maxFpr: 1, bins: 0), 6);
    }

    [Fact]
    public void Aupro_RegionsAreEightConnected_AndWeighEqually()
    {
        // A diagonal pair is one region; the lone pixel at the far corner another.
        byte[] mask =
        [
            1, 0, 0, 0,
            0, 1, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 1,
        ];
        float[] scores = new float[16];
        scores[0] = 1; // half of the diagonal region found at the top threshold
        scores[15] = 1; // the lone region found
        scores[5] = 0.5f; // the rest of the diagonal region
        AnomalyMapSample[] samples = [new(scores, mask, 4, 4)];
        // Thresholds: 1 -> PRO (0.5 + 1) / 2 = 0.75, FPR 0; 0.5 -> PRO 1, FPR 0; 0 -> FPR 1: area 1.
        Assert.Equal(1.0, PixelMetrics.Aupro(samples, maxFpr: 1, bins: 0), 6);

        float[] scores2 = new float[16];
        scores2[0] = 1;
        scores2[15] = 1;
        // pixel 5 scores 0 like the negatives: curve (0, 0.75) then (1, 1) -> area 0.875 with 8-connectivity
        // (with 4-connectivity: (0, 2/3) then (1, 1) -> 0.8333).
        Assert.Equal(0.875, PixelMetrics.Aupro([new(scores2, mask, 4, 4)], maxFpr: 1, bins: 0), 6);
    }

    [Fact]
    public void NoDefects_GiveNaN_BadArgumentsThrow()
    {
        AnomalyMapSample clean = new([0.1f, 0.2f], [0, 0], 2, 1);
        Assert.True(double.IsNaN(PixelMetrics.Auroc([clean])));
        Assert.True(double.IsNaN(PixelMetrics.Aupro([clean])));
        Assert.Throws<ArgumentException>(() => PixelMetrics.Auroc([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PixelMetrics.Auroc([clean], bins: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PixelMetrics.Aupro([clean], maxFpr: 0));
        Assert.Throws<ArgumentException>(() => new AnomalyMapSample([0.1f], [0, 0], 2, 1));
        Assert.Throws<ArgumentException>(() => new AnomalyMapSample([float.NaN, 0], [0, 0], 2, 1));
    }
}

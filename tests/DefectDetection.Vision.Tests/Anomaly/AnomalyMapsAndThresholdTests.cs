using DefectDetection.Imaging;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

public class AnomalyMapsAndThresholdTests
{
    [Fact]
    public void Regions_FindBoxesAreasAndPercent()
    {
        const int w = 20, h = 10;
        byte[] mask = new byte[w * h];
        // A 3x4 block and a diagonal pair (8-connected) and a single pixel.
        for (int y = 2; y < 6; y++)
        {
            for (int x = 5; x < 8; x++)
            {
                mask[(y * w) + x] = 255;
            }
        }

        mask[(8 * w) + 15] = 255;
        mask[(9 * w) + 16] = 255;
        mask[(0 * w) + 0] = 255;
        List<AnomalyRegion> regions = AnomalyMaps.Regions(mask, w, h, 1, "anomaly");
        Assert.Equal(3, regions.Count);
        Assert.Equal(new Rectangle(5, 2, 3, 4), regions[0].Bounds);
        Assert.Equal(12, regions[0].Area);
        Assert.Equal(100.0 * 12 / 200, regions[0].PercentOfImage, 9);
        Assert.Equal(new Rectangle(15, 8, 2, 2), regions[1].Bounds);
        Assert.Equal(2, regions[1].Area);
        Assert.Single(AnomalyMaps.Regions(mask, w, h, 3, "anomaly"));
    }

    [Fact]
    public void ToImage_KeepsConstantMapsAndPutsThePeakWhereThePatchIs()
    {
        float[] grid = new float[8 * 8];
        grid.AsSpan().Fill(2);
        float[] map = AnomalyMaps.ToImage(grid, 8, 8, 64, 64, 4, 100, 50);
        Assert.Equal(5000, map.Length);
        Assert.All(map, v => Assert.Equal(2, v, 3));

        grid[(6 * 8) + 1] = 10; // patch at column 1, row 6
        map = AnomalyMaps.ToImage(grid, 8, 8, 64, 64, 4, 64, 64);
        int arg = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(map);
        Assert.InRange(arg % 64, 8, 16);
        Assert.InRange(arg / 64, 48, 56);
    }

    [Fact]
    public void Thresholds_FollowTheRules()
    {
        double[] normals = [1, 2, 3, 4, 5];
        Assert.Equal(3, AnomalyThreshold.FromNormals(normals, new AnomalyThresholdOptions { Rule = AnomalyThresholdRule.Percentile, Percentile = 50 }), 9);
        Assert.Equal(4.6, AnomalyThreshold.FromNormals(normals, new AnomalyThresholdOptions { Rule = AnomalyThresholdRule.Percentile, Percentile = 90 }), 9);
        // mean 3, population std sqrt(2)
        Assert.Equal(3 + (2 * Math.Sqrt(2)), AnomalyThreshold.FromNormals(normals, new AnomalyThresholdOptions { Rule = AnomalyThresholdRule.MeanPlusKSigma, K = 2 }), 9);

        // F1-optimal: normals 1..5, anomalies 4.5, 6, 7 -> threshold 4.5 gives tp 3, fp 1 (F1 6/7); 6 gives tp 2 (F1 4/5).
        double t = AnomalyThreshold.FromLabelled(normals, [4.5, 6, 7]);
        Assert.Equal(4.5, t, 9);

        Assert.Equal(0.5f, AnomalyThreshold.Confidence(4.5, 4.5, 1), 6);
        Assert.True(AnomalyThreshold.Confidence(9, 4.5, 1) > 0.95f);
        Assert.True(AnomalyThreshold.Confidence(0, 4.5, 1) < 0.05f);
    }

    [Fact]
    public void ReplaceBorder_CopiesTheNearestInnerScore()
    {
        // 5x4 grid with values 10*y + x; one ring replaced.
        float[] g = new float[20];
        for (int i = 0; i < 20; i++)
        {
            g[i] = (10 * (i / 5)) + (i % 5);
        }

        PatchCoreModel.ReplaceBorder(g, 5, 4, 1);
        float[] expected = [11, 11, 12, 13, 13, 11, 11, 12, 13, 13, 21, 21, 22, 23, 23, 21, 21, 22, 23, 23];
        Assert.Equal(expected, g);
    }

    [Fact]
    public void ImageScore_IsTheLargestPatchScore()
    {
        float[] s = [1, 9, 3, 7, 5];
        Assert.Equal(9, PatchCoreModel.ImageScore(s));
        Assert.Equal([1, 9, 3, 7, 5], s);
    }

    [Fact]
    public void CalibrationImages_AreAllOfASmallSet_AndEvenlySpacedInALargeOne()
    {
        Assert.Empty(PatchCoreTrainer.CalibrationImages(1, 100));
        Assert.Equal(Enumerable.Range(0, 31), PatchCoreTrainer.CalibrationImages(31, 100));
        int[] some = PatchCoreTrainer.CalibrationImages(666, 100);
        Assert.Equal(100, some.Distinct().Count());
        Assert.All(some.Zip(some.Skip(1)), p => Assert.InRange(p.Second - p.First, 6, 7));
        Assert.InRange(some[0], 0, 6);
        Assert.InRange(some[^1], 659, 665);
    }
}

using DefectDetection.Vision.Backbones;
using DefectDetection.Imaging;
using DefectDetection.Testing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>The position features of <see cref="PatchCoreOptions.PositionWeight"/>: their values, options, behaviour and model files.</summary>
public sealed class PatchPositionTests
{
    private static string Backbone => SharedData.MobileNetV2Qdq;

    [Fact]
    public void PositionsRunFromZeroToTheWeightAcrossTheGrid()
    {
        // 3 x 2 grid, 4 features a patch, positions written at column 1 (columns 0 and 3 must stay untouched).
        const int dim = 4;
        float[] features = Enumerable.Repeat(-7f, 6 * dim).ToArray();
        PatchFeatureExtractor.WritePositions(features, dim, 1, 3, 2, 3f);
        float[][] expected = [[0, 0], [1.5f, 0], [3, 0], [0, 3], [1.5f, 3], [3, 3]];
        for (int p = 0; p < 6; p++)
        {
            Assert.Equal(expected[p][0], features[(p * dim) + 1], 6);
            Assert.Equal(expected[p][1], features[(p * dim) + 2], 6);
            Assert.Equal(-7f, features[p * dim]);
            Assert.Equal(-7f, features[(p * dim) + 3]);
        }

        // A one-cell axis has no extent: its coordinate is 0, never a division by zero.
        float[] single = new float[2 * 2];
        PatchFeatureExtractor.WritePositions(single, 2, 0, 2, 1, 5f);
        Assert.Equal([0f, 0f, 5f, 0f], single);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void OptionsRejectABadWeight(double weight)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile("x.onnx"), PositionWeight = weight }));
        Assert.Equal("PositionWeight", e.ParamName);
    }

    [SharedFact]
    public void SwappedHalvesAreFoundOnlyWithPositions_AndSurviveSaveLoad()
    {
        // Normal parts: fine streaks in the top half, coarse bright streaks in the bottom half. The test part has the
        // halves swapped: every patch of it looks like some normal patch, but from the other half of the part.
        List<Image> normals = Enumerable.Range(0, 6).Select(i => Halves(i, swapped: false)).ToList();
        using Image heldOut = Halves(50, swapped: false);
        using Image swapped = Halves(99, swapped: true);
        var plain = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.5, BorderPatches = 2 };
        var withPosition = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.5, BorderPatches = 2, PositionWeight = 3 };
        using PatchCoreModel a = new PatchCoreTrainer(plain).Fit(normals.Select(x => x.View()).ToList());
        using PatchCoreModel b = new PatchCoreTrainer(withPosition).Fit(normals.Select(x => x.View()).ToList());
        Assert.Equal(a.FeatureDimension + 2, b.FeatureDimension);

        // Away from the seam between the halves and from the part's edges (where the swap also changes what a patch
        // sees), the map of the swapped part over that of an unseen normal one: only positions tell them apart.
        double ratioPlain = Inner(a.Predict(swapped.View())) / Inner(a.Predict(heldOut.View()));
        DefectPrediction pb = b.Predict(swapped.View());
        double ratioPosition = Inner(pb) / Inner(b.Predict(heldOut.View()));
        Assert.True(ratioPlain < 1.35 && ratioPosition > ratioPlain + 0.4, $"swapped / normal inner map {ratioPosition:F3} with positions, {ratioPlain:F3} without");
        Assert.True(pb.IsDefect, $"score {pb.Score:F3}, threshold {pb.Threshold:F3}");

        string path = Path.Combine(Path.GetTempPath(), $"patchcore-position-{Guid.NewGuid():N}.ddmodel");
        try
        {
            b.Save(path);
            using PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 });
            Assert.Equal(b.FeatureDimension, loaded.FeatureDimension);
            Assert.Equal(pb.Score, loaded.Predict(swapped.View()).Score, 5);
        }
        finally
        {
            File.Delete(path);
            normals.ForEach(x => x.Dispose());
        }
    }

    /// <summary>Mean map over rows 15%..35% and 65%..85% and columns 15%..85%.</summary>
    private static double Inner(DefectPrediction p)
    {
        double sum = 0;
        int n = 0;
        for (int y = 0; y < p.ImageHeight; y++)
        {
            double f = (double)y / p.ImageHeight;
            if (f is (>= 0.15 and < 0.35) or (>= 0.65 and < 0.85))
            {
                for (int x = p.ImageWidth * 15 / 100; x < p.ImageWidth * 85 / 100; x++)
                {
                    sum += p.AnomalyMap!.Values[(y * p.ImageWidth) + x];
                    n++;
                }
            }
        }

        return sum / n;
    }

    /// <summary>A part whose top half has fine, dim streaks and bottom half coarse, bright ones (or the reverse).</summary>
    private static Image Halves(int seed, bool swapped)
    {
        const int h = 240;
        return StreakTexture.Create(seed, 200, h, y => (y >= h / 2) != swapped ? new StreakStyle(130, 50, 4) : new StreakStyle(80, 12, 1));
    }
}

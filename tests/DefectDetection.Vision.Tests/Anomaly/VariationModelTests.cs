using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

public class VariationModelTests
{
    // A fixed pattern (gradient plus a few blobs) with per-image noise, shifted by (dx, dy).
    private sealed class OneRegion(Rectangle box) : IRoiDetector
    {
        public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) => [new RegionOfInterest(box)];
    }

    [Fact]
    public void AsCropClassifier_ThePipelineReportsEachAnomalyRegion_InImageCoordinates()
    {
        List<Image> normals = Enumerable.Range(0, 8).Select(i => SyntheticImages.Pattern(10 + i, (i % 3) - 1, (i % 2) * 2)).ToList();
        VariationModel model = new VariationModelTrainer(new VariationModelOptions { MaxShift = 4 }).Fit(normals.Select(x => x.View()).ToList());
        normals.ForEach(x => x.Dispose());
        using Image scene = SyntheticImages.Pattern(100, 1, 1, img =>
        {
            SyntheticImages.Square(img, 20, 30, 6, 255);
            SyntheticImages.Square(img, 60, 10, 5, 0);
        });

        // The scene sits at (40, 25) inside a larger, flat image; the region of interest is exactly the scene.
        using Image board = Image.Create(200, 150, PixelFormat.Gray8);
        for (int y = 0; y < scene.Height; y++)
        {
            scene.GetRow(y).CopyTo(board.GetRow(25 + y)[40..]);
        }

        InspectionResult result = new DefectPipeline(new OneRegion(new Rectangle(40, 25, scene.Width, scene.Height)), model).Inspect(board.View());
        Assert.True(result.IsAnomalous);
        Assert.Equal(2, result.Defects.Count);
        Defect bright = Assert.Single(result.Defects, d => d.Label == "bright");
        Defect dark = Assert.Single(result.Defects, d => d.Label == "dark");
        Assert.InRange(bright.Box.X, 40 + 17, 40 + 21);
        Assert.InRange(bright.Box.Y, 25 + 27, 25 + 31);
        Assert.InRange(bright.Box.Width, 4, 10);
        Assert.InRange(dark.Box.X, 40 + 57, 40 + 61);
        Assert.InRange(dark.Box.Y, 25 + 7, 25 + 11);
        Assert.InRange(dark.Box.Height, 3, 9);
    }

    [Fact]
    public void Align_RecoversKnownShift()
    {
        using Image a = SyntheticImages.Pattern(1, 0, 0), b = SyntheticImages.Pattern(2, 5, -3);
        float[] ga = VariationModelTrainer.Gray(a.View(), a.Width, a.Height);
        float[] gb = VariationModelTrainer.Gray(b.View(), b.Width, b.Height);
        Assert.Equal((5, -3), VariationModelTrainer.Align(ga, gb, a.Width, a.Height, 8));
    }

    [Fact]
    public void FindsBrightAndDarkDefects_WhereTheyAre_AndPassesNormals()
    {
        List<Image> normals = Enumerable.Range(0, 8).Select(i => SyntheticImages.Pattern(10 + i, (i % 3) - 1, (i % 2) * 2)).ToList();
        VariationModel model = new VariationModelTrainer(new VariationModelOptions { MaxShift = 4 }).Fit(normals.Select(x => x.View()).ToList());
        using Image normal = SyntheticImages.Pattern(99, 1, 1);
        DefectPrediction ok = model.Predict(normal.View());
        Assert.False(ok.IsDefect, $"normal score {ok.Score}");
        Assert.Empty(ok.Defects);

        using Image bad = SyntheticImages.Pattern(100, 1, 1, img =>
        {
            SyntheticImages.Square(img, 20, 30, 6, 255);
            SyntheticImages.Square(img, 60, 10, 5, 0);
        });
        DefectPrediction p = model.Predict(bad.View());
        Assert.True(p.IsDefect);
        Assert.True(p.Confidence > 0.5f);
        Defect bright = Assert.Single(p.Defects, r => r.Label == "bright");
        Defect dark = Assert.Single(p.Defects, r => r.Label == "dark");
        Assert.InRange(bright.Box.X, 17, 21);
        Assert.InRange(bright.Box.Y, 27, 31);
        Assert.InRange(dark.Box.X, 57, 61);
        Assert.InRange(dark.Box.Y, 7, 11);
        Assert.Equal(p.Defects.Sum(r => 100.0 * r.Area / (p.ImageWidth * p.ImageHeight)), p.TotalPercentageArea, 9);
        Assert.Equal(VariationModel.DarkMaskValue, p.Mask![(12 * p.ImageWidth) + 62]);
        Assert.Equal(255, p.Mask![(32 * p.ImageWidth) + 22]);

        using Image lfv = AnomalyVisualizer.LookoutMask(p, new DefectDetection.Imaging.Processing.Color(0x23, 0xA4, 0x36), DefectDetection.Imaging.Processing.Color.Blue);
        Assert.Equal(0xA4, lfv.GetRow(32)[(22 * 3) + 1]);
        Assert.Equal(255, lfv.GetRow(12)[(62 * 3) + 2]);
        Assert.Equal(0, lfv.GetRow(0)[0]);
        using Image overlay = AnomalyVisualizer.Overlay(bad.View(), p);
        Assert.Equal((bad.Width, bad.Height), (overlay.Width, overlay.Height));

        string path = Path.Combine(Path.GetTempPath(), $"variation-{Guid.NewGuid():N}.ddmodel");
        try
        {
            model.Save(path);
            using IDefectModel loaded = DefectModel.Load(path);
            DefectPrediction q = loaded.Predict(bad.View());
            Assert.Equal(p.Score, q.Score);
            Assert.Equal(p.AnomalyMap!.Values, q.AnomalyMap!.Values);
        }
        finally
        {
            File.Delete(path);
        }

        normals.ForEach(x => x.Dispose());
    }
}

using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>The evaluation's located-defect count: whether the most confident region of each flagged defective image lies on its mask.</summary>
public sealed class LocatedDefectTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("located-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedFact]
    public void TheTopRegionOfEachFlaggedDefectIsCountedOnItsMask_AndNotOnAMaskElsewhere()
    {
        List<Image> normals = [.. Enumerable.Range(0, 6).Select(i => SyntheticImages.Texture(i))];
        using PatchCoreModel model = new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threads = 2, Tiles = 1, ContextWeight = 0 })
            .Fit([.. normals.Select(i => i.View())]);
        normals.ForEach(i => i.Dispose());

        // Four defective images, each with a painted square at its own place, and two good ones.
        (int X, int Y)[] places = [(100, 30), (20, 100), (90, 110), (30, 20)];
        List<LabeledImage> items = [];
        string truth = Directory.CreateDirectory(Path.Combine(_dir, "truth")).FullName, elsewhere = Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName;
        for (int k = 0; k < places.Length; k++)
        {
            (int x, int y) = places[k];
            using Image bad = SyntheticImages.Texture(60 + k, defect: img => SyntheticImages.Paint(img, x, y, 24));
            string path = Path.Combine(_dir, $"bad-{k}.png");
            ImageCodecs.Save(bad, path);
            items.Add(new LabeledImage(path, "anomaly"));
            SaveMask(Path.Combine(truth, $"bad-{k}.png"), x, y, 24);

            // The same square moved to the opposite corner: no region of the model lies there.
            SaveMask(Path.Combine(elsewhere, $"bad-{k}.png"), 160 - 24 - x, 160 - 24 - y, 24);
        }

        for (int k = 0; k < 2; k++)
        {
            using Image good = SyntheticImages.Texture(80 + k);
            string path = Path.Combine(_dir, $"good-{k}.png");
            ImageCodecs.Save(good, path);
            items.Add(new LabeledImage(path, "normal"));
        }

        ImageDataset data = new(items);
        ModelEvaluation onMask = ModelEvaluator.Evaluate(model, data, new ModelEvaluationOptions { MaskFolder = truth, PixelMetrics = true });
        ModelEvaluation offMask = ModelEvaluator.Evaluate(model, data, new ModelEvaluationOptions { MaskFolder = elsewhere, PixelMetrics = true });
        int flagged = onMask.Items.Count(e => e.IsDefect && e.PredictedDefect);
        Assert.True(flagged >= 3, $"{flagged} of 4 painted squares flagged");
        Assert.Equal(flagged, onMask.FlaggedWithMask);
        Assert.Equal(flagged, onMask.TopRegionOnDefect);
        Assert.Equal(flagged, offMask.FlaggedWithMask);
        Assert.Equal(0, offMask.TopRegionOnDefect);
        Assert.All(onMask.Items.Where(e => !e.IsDefect || !e.PredictedDefect), e => Assert.Null(e.TopRegionOnDefect));
    }

    private static void SaveMask(string path, int x0, int y0, int size)
    {
        byte[] pixels = new byte[160 * 160];
        for (int y = y0; y < y0 + size; y++)
        {
            pixels.AsSpan((y * 160) + x0, size).Fill(255);
        }

        using Image mask = Image.FromPixels(160, 160, PixelFormat.Gray8, pixels);
        ImageCodecs.Save(mask, path);
    }
}

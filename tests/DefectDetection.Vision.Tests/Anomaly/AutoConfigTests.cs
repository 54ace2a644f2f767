using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Synthetic;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>Automatic configuration of the anomaly model: synthetic defects as the validation criterion, the scale search.</summary>
public sealed class AutoConfigTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void SyntheticDefectsChangeOnlyTheirMask_AreDeterministic_AndScaleWithTheImage(int kindNumber)
    {
        var kind = (SyntheticDefectKind)kindNumber; // Patch, Blob, Scratch
        foreach (int size in new[] { 160, 640 })
        {
            using Image normal = SyntheticImages.Texture(7, size);
            (Image a, byte[] mask) = SyntheticDefects.Draw(normal.View(), kind, 42);
            (Image b, byte[] same) = SyntheticDefects.Draw(normal.View(), kind, 42);
            using (a)
            using (b)
            {
                Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());
                Assert.Equal(mask, same);
                int channels = a.PixelFormat.ChannelCount(), area = mask.Count(m => m != 0), changed = 0;
                for (int i = 0; i < mask.Length; i++)
                {
                    bool differs = !a.Pixels.Slice(i * channels, channels).SequenceEqual(normal.Pixels.Slice(i * channels, channels));
                    Assert.False(differs && mask[i] == 0, $"{kind}: pixel {i} changed outside the mask");
                    changed += differs ? 1 : 0;
                }

                // A visible defect whose radius is 1.5-6% of the side: its area grows with the image.
                Assert.True(changed > area / 4, $"{kind} at {size}: {changed} of {area} masked pixels changed");
                double relative = (double)area / (size * size);
                Assert.InRange(relative, kind == SyntheticDefectKind.Scratch ? 2e-4 : 5e-4, 0.05);
            }
        }

        using Image image = SyntheticImages.Texture(7);
        Assert.NotEqual(SyntheticDefects.Draw(image.View(), kind, 1).Mask, SyntheticDefects.Draw(image.View(), kind, 2).Mask);
    }

    [SharedFact]
    public void WithTheScalePinned_TheSearchWeighsTheContextFeatures_AndTheModelUsesItsChoice()
    {
        List<Image> normals = [.. Enumerable.Range(0, 8).Select(i => SyntheticImages.Texture(i, 96))];
        try
        {
            PatchCoreOptions options = new() { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threads = 2, InputSize = 96, Tiles = 1 };
            using PatchCoreModel model = new PatchCoreTrainer(options).Fit([.. normals.Select(i => i.View())]);
            TrainingSearch search = model.Search!;
            Assert.Equal(["context_weight", "position_weight"], search.Searched);
            Assert.Equal(2, search.Candidates.Count);
            Assert.All(search.Candidates, c => Assert.InRange(c.Figures["synthetic_auroc"], 0, 1));
            SearchCandidate chosen = Assert.Single(search.Candidates, c => c.Name == search.Chosen);
            Assert.Equal(chosen.Settings["context_weight"], model.ContextWeight);
            Assert.Equal(chosen.Settings["position_weight"], model.PositionWeight);

            // Pinning either weight pins both and turns this part of the search off (the scale is pinned too: no search).
            using PatchCoreModel pinned = new PatchCoreTrainer(options with { PositionWeight = 3 }).Fit([.. normals.Select(i => i.View())]);
            Assert.Null(pinned.Search);
            Assert.Equal(0, pinned.ContextWeight);
            Assert.Equal(3, pinned.PositionWeight);
        }
        finally
        {
            normals.ForEach(i => i.Dispose());
        }
    }

    [Theory]
    [InlineData(6, 6)] // leave one out: each fold's model keeps five of the six
    [InlineData(20, 3)] // 12 held out in folds of 4, each model trained on 16 (at least 15)
    [InlineData(31, 2)] // 12 held out in folds of 6, each model trained on 25 (at least 24)
    [InlineData(40, 2)] // 28 beside the 12 held out are fewer than 30
    [InlineData(48, 1)] // 36 beside the 12 held out: one model
    [InlineData(666, 1)]
    public void TheSearchHoldsOutADozenNormals_InAsFewFoldsAsLeaveEachModelThreeQuarters(int normals, int folds)
    {
        int validation = Math.Min(normals, 12);
        Assert.Equal(folds, PatchCoreSearch.Folds(normals, validation));
        int largestFold = (validation + folds - 1) / folds;
        Assert.True(normals - largestFold >= Math.Min(48, Math.Ceiling(normals * 0.75)));
        Assert.True(folds == 1 || normals - ((validation + folds - 2) / (folds - 1)) < Math.Min(48, Math.Ceiling(normals * 0.75)), "one fold fewer would leave a model too few images");
    }

    [SharedFact]
    public void TheSearchChoosesTilesForSmallDefectsInLargeImages_AndTheyAreTheBetterChoice()
    {
        // Boards of 960x720 with defects a few pixels across: at 224 px a whole board loses them.
        var generator = new PcbBoardGenerator(new PcbBoardOptions { Width = 960, Height = 720, PixelsPerMm = 5, ComponentCount = 12, MinDefects = 1, MaxDefects = 2 });
        List<SyntheticBoard> normals = [.. Enumerable.Range(0, 16).Select(i => generator.Generate(i, defective: false))];
        List<SyntheticBoard> test = [.. Enumerable.Range(100, 16).Select(i => generator.Generate(i, defective: i % 2 == 0))];
        try
        {
            BackboneSpec backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq);
            List<ImageView> train = [.. normals.Select(b => b.Image.View())];
            using PatchCoreModel chosen = new PatchCoreTrainer(new PatchCoreOptions { Backbone = backbone, Threads = 2, ContextWeight = 0, BorderPatches = 1 }).Fit(train);
            TrainingSearch search = Assert.IsType<TrainingSearch>(chosen.Search);
            Assert.Equal(["tiles", "input_size"], search.Searched);
            // The whole board at 224 and 320 px, then 2 and 3 tiles a side (a 720 px side holds 3 x 224 native pixels, not 4).
            Assert.Equal(["224 px whole image, border 1", "320 px whole image, border 1", "224 px x 2x2 tiles, border 1", "224 px x 3x3 tiles, border 1"], search.Candidates.Select(c => c.Name));
            Assert.True(chosen.Tiles > 1, $"chose {search.Chosen}: {string.Join("; ", search.Candidates.Select(c => $"{c.Name} {string.Join(",", c.Figures.Select(f => $"{f.Key}={f.Value}"))}"))}");
            // A costlier candidate won by more than one standard error of the paired AUROC difference, or located more.
            SearchCandidate first = search.Candidates[0], won = Assert.Single(search.Candidates, c => c.Name == search.Chosen);
            Assert.True(won.Figures["synthetic_auroc"] > first.Figures["synthetic_auroc"] + won.Figures["auroc_gain_se"] - 1e-4 || won.Figures["peak_on_defect"] > first.Figures["peak_on_defect"]);
            Assert.All(search.Candidates, c => Assert.InRange(c.Figures["synthetic_auroc"], 0, 1));

            // On real defective boards the chosen scale ranks them above the good ones better than the whole image does.
            using PatchCoreModel whole = new PatchCoreTrainer(new PatchCoreOptions { Backbone = backbone, Threads = 2, Tiles = 1, ContextWeight = 0, BorderPatches = 1 }).Fit(train);
            Assert.Null(whole.Search); // pinned: nothing searched
            bool[] defective = [.. test.Select(b => b.Defects.Count > 0)];
            double Auroc(PatchCoreModel m) => BinaryMetrics.RocAuc([.. test.Select(b => m.Predict(b.Image.View()).Score)], defective);
            (double a, double w) = (Auroc(chosen), Auroc(whole));
            Assert.True(a >= w, $"chosen {a:F3}, whole image {w:F3}");

            // The search is written into the model file.
            string path = Path.Combine(Path.GetTempPath(), $"auto-{Guid.NewGuid():N}.ddmodel");
            try
            {
                chosen.Save(path);
                Assert.Equal(search.Chosen, ModelPackage.ReadManifest(path).Search!.Chosen);
                using var loaded = (PatchCoreModel)DefectModel.Load(path);
                Assert.Equal(chosen.Tiles, loaded.Tiles);
                Assert.Equal(search.Candidates.Count, loaded.Search!.Candidates.Count);
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            normals.ForEach(b => b.Dispose());
            test.ForEach(b => b.Dispose());
        }
    }
}

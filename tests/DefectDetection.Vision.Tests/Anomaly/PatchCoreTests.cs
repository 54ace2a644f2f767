using DefectDetection.Vision.Backbones;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Testing;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

public class PatchCoreTests
{
    private static string Backbone => SharedData.MobileNetV2Qdq;

    [SharedFact]
    public void SyntheticDefect_IsScoredHigher_AndLocated_AndSurvivesSaveLoad()
    {
        List<Image> normals = Enumerable.Range(0, 6).Select(i => SyntheticImages.Texture(i)).ToList();
        var options = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.25 };
        using PatchCoreModel model = new PatchCoreTrainer(options).Fit(normals.Select(x => x.View()).ToList());
        Assert.True(model.BankSize > 0 && model.FeatureDimension == 128);
        Assert.Equal(6, model.CalibrationScores.Count);

        using Image normal = SyntheticImages.Texture(50);
        using Image bad = SyntheticImages.Texture(51, defect: img => SyntheticImages.Paint(img, 100, 30, 24));
        IReadOnlyList<DefectPrediction> p = model.Predict([normal.View(), bad.View()]);
        Assert.True(p[1].Score > p[0].Score * 1.3, $"defect {p[1].Score} vs normal {p[0].Score}");
        Assert.True(p[1].IsDefect);
        int arg = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p[1].AnomalyMap!.Values);
        Assert.InRange(arg % 160, 90, 134);
        Assert.InRange(arg / 160, 20, 64);
        DefectDetection.Pipeline.Defect top = p[1].Defects[0];
        Assert.True(top.Box.X < 124 && top.Box.X + top.Box.Width > 100 && top.Box.Y < 54 && top.Box.Y + top.Box.Height > 30, $"region {top.Box}");
        Assert.InRange(p[1].Confidence, 0.5f, 1f);
        Assert.Equal(p[1].Score, model.Score([bad.View()])[0], 6);

        var verdicts = model.Classify([normal.View(), bad.View()]);
        Assert.Equal("anomaly", verdicts[1].Label);
        Assert.Equal(160 * 160, verdicts[1].AnomalyMap!.Length);

        string path = Path.Combine(Path.GetTempPath(), $"patchcore-{Guid.NewGuid():N}.ddmodel");
        string emptyPath = Path.ChangeExtension(path, ".empty.ddmodel");
        try
        {
            model.Save(path);
            using PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 });
            Assert.Equal(model.Threshold, loaded.Threshold);
            Assert.Equal(model.Bank, loaded.Bank);
            Assert.Equal(model.Sources, loaded.Sources);
            Assert.Equal(p[1].Score, loaded.Predict(bad.View()).Score, 6);

            // The same file with an empty memory bank is refused, naming the tensor.
            ModelPackage package = ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = Backbone });
            var tensors = new Dictionary<string, ModelTensor>(package.Tensors)
            {
                ["memory_bank"] = new ModelTensor([0, model.FeatureDimension], []),
                ["bank_source"] = new ModelTensor([0], []),
            };
            new ModelPackage(package.Manifest, tensors).Save(emptyPath);
            ModelFileException e = Assert.Throws<ModelFileException>(() => (PatchCoreModel)DefectModel.Load(emptyPath, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 }));
            Assert.Contains("memory_bank", e.Message, StringComparison.Ordinal);
            Assert.Contains("empty", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
            File.Delete(emptyPath);
        }

        normals.ForEach(x => x.Dispose());
    }

    [SharedFact]
    public void AnotherBackboneInputLayoutIsUsedAndKeptInTheModelFile()
    {
        // Images with red and blue swapped, read as BGR with the same per-tensor-channel mean and std, make exactly the
        // tensors that the originals make as RGB: the same bank and scores. A layout that was ignored would differ. One
        // normal image: with several, the trainer takes them in the order of their pixels' hash, which the swap changes.
        List<Image> normals = [SyntheticImages.Texture(0)];
        List<Image> swapped = normals.Select(Swapped).ToList();
        using Image bad = SyntheticImages.Texture(51, defect: img => SyntheticImages.Paint(img, 100, 30, 24));
        using Image badSwapped = Swapped(bad);
        var bgr = new TensorLayoutOptions { ChannelOrder = ChannelOrder.Bgr, Mean = TensorLayoutOptions.ImageNet.Mean, Std = TensorLayoutOptions.ImageNet.Std };
        var options = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.25 };
        using PatchCoreModel rgbModel = new PatchCoreTrainer(options).Fit(normals.Select(x => x.View()).ToList());
        using PatchCoreModel bgrModel = new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone) with { Layout = bgr }, Threads = 2, CoresetRatio = 0.25 })
            .Fit(swapped.Select(x => x.View()).ToList());
        Assert.Equal(rgbModel.Bank, bgrModel.Bank);
        double score = bgrModel.Predict(badSwapped.View()).Score;
        Assert.Equal(rgbModel.Predict(bad.View()).Score, score);
        Assert.NotEqual(score, rgbModel.Predict(badSwapped.View()).Score);

        string path = Path.Combine(Path.GetTempPath(), $"patchcore-bgr-{Guid.NewGuid():N}.ddmodel");
        string badPath = Path.ChangeExtension(path, ".bad.ddmodel"), plainPath = Path.ChangeExtension(path, ".rgb.ddmodel");
        try
        {
            bgrModel.Save(path);
            ModelPackage package = ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = Backbone });
            Assert.Equal(Learners.PatchCore, package.Manifest.Learner);
            Assert.Equal("Bgr", package.Manifest.Preprocessing!.ChannelOrder);
            Assert.Equal("bgr", package.Manifest.Preprocessing.Color);
            using (PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 }))
            {
                Assert.Equal(score, loaded.Predict(badSwapped.View()).Score);
            }

            // Settings that are off are not written, so readers that predate them still read default models.
            rgbModel.Save(plainPath);
            System.Text.Json.Nodes.JsonObject plain = ModelFileEdits.Manifest(plainPath)["patchcore"]!.AsObject();
            Assert.False(plain.ContainsKey("position_weight") || plain.ContainsKey("context_model") || plain.ContainsKey("nearest_images") || plain.ContainsKey("max_layer_features"));
            Assert.Equal("Rgb", ModelFileEdits.Manifest(plainPath)["preprocessing"]!["channel_order"]!.GetValue<string>());

            // A malformed layout is refused, naming the manifest and the field.
            ModelFileEdits.EditManifest(path, badPath, m => m["preprocessing"]!["channel_order"] = "Purple");
            ModelFileException e = Assert.Throws<ModelFileException>(() => (PatchCoreModel)DefectModel.Load(badPath, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 }));
            Assert.Contains("manifest.json", e.Message, StringComparison.Ordinal);
            Assert.Contains("$.preprocessing.channel_order", e.Message, StringComparison.Ordinal);
            Assert.Contains("Purple", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
            File.Delete(badPath);
            File.Delete(plainPath);
        }

        normals.ForEach(x => x.Dispose());
        swapped.ForEach(x => x.Dispose());
    }

    private static Image Swapped(Image image)
    {
        Image result = image.Clone();
        for (int y = 0; y < result.Height; y++)
        {
            Span<byte> row = result.GetRow(y);
            for (int x = 0; x < result.Width; x++)
            {
                (row[3 * x], row[(3 * x) + 2]) = (row[(3 * x) + 2], row[3 * x]);
            }
        }

        return result;
    }

    [SharedFact]
    public void Cookies_AnomaliesScoreAboveNormals()
    {
        string root = SharedData.PathOf("datasets", "lfv-cookies");
        List<Image> train = Enumerable.Range(1, 8).Select(i => ImageCodecs.Load(Path.Combine(root, "dataset-files", "training-images", $"normal-{i}.jpg"))).ToList();
        using PatchCoreModel model = new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2 }).Fit(train.Select(x => x.View()).ToList());
        string[] files = [.. Enumerable.Range(2, 4).Select(i => $"test-normal-{i}.jpg"), .. Enumerable.Range(1, 4).Select(i => $"test-anomaly-{i}.jpg")];
        List<Image> test = files.Select(f => ImageCodecs.Load(Path.Combine(root, "test-images", f))).ToList();
        double[] scores = model.Score(test.Select(x => x.View()).ToList());
        bool[] truth = files.Select(f => f.Contains("anomaly", StringComparison.Ordinal)).ToArray();
        double auroc = BinaryMetrics.RocAuc(scores, truth);
        Assert.True(auroc >= 0.9, $"AUROC {auroc}: " + string.Join(' ', scores));
        train.ForEach(x => x.Dispose());
        test.ForEach(x => x.Dispose());
    }
}

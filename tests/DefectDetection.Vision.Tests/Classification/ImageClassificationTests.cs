using DefectDetection.Vision.Backbones;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Pipeline;
using DefectDetection.Testing;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Tests.Classification;

/// <summary>
/// Transfer learning on a small subset of the Lookout for Vision cookies (cracked vs normal): a MobileNetV2 backbone
/// plus a softmax head must separate unseen test cookies; models survive a save/load round trip with the backbone hash checked.
/// </summary>
public sealed class ImageClassificationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-learn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ModelPath => SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

    private static string Cookie(string folder, string name) => SharedData.PathOf("datasets", "lfv-cookies", folder, name);

    private static ImageDataset SmallTrainingSet() => new(
        Enumerable.Range(1, 6).Select(i => new LabeledImage(Cookie(Path.Combine("dataset-files", "training-images"), $"normal-{i}.jpg"), "normal"))
            .Concat(Enumerable.Range(1, 6).Select(i => new LabeledImage(Cookie(Path.Combine("dataset-files", "training-images"), $"anomaly-{i}.jpg"), "anomaly"))),
        ["anomaly", "normal"]);

    private static ImageDataset SmallTestSet() => new(
        Enumerable.Range(1, 4).Select(i => new LabeledImage(Cookie("test-images", $"test-normal-{i}.jpg"), "normal"))
            .Concat(Enumerable.Range(1, 3).Select(i => new LabeledImage(Cookie("test-images", $"test-anomaly-{i}.jpg"), "anomaly"))),
        ["anomaly", "normal"]);

    [SharedFact]
    public void BackboneModelSeparatesUnseenCookiesAndRoundTripsThroughAFile()
    {
        using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { Backbone = BackboneSpec.FromFile(ModelPath), Threads = 2 });
        List<TrainingProgress> reports = [];
        using ImageClassificationModel model = trainer.Fit(SmallTrainingSet(), new ListProgress(reports));
        Assert.Equal(["anomaly", "normal"], model.Labels);
        Assert.Equal("anomaly", model.PositiveLabel);
        Assert.InRange(model.Threshold!.Value, 0, 1);
        Assert.Contains(reports, r => r.Stage == TrainingStages.Features && r.Done == 12);
        Assert.Contains(reports, r => r.Stage == TrainingStages.Head);

        ImageDataset test = SmallTestSet();
        ClassificationMetrics metrics = model.Evaluate(test);
        Assert.Equal(7, metrics.Count);
        Assert.True(metrics.Accuracy >= 6.0 / 7, $"accuracy {metrics.Accuracy}");
        Assert.True(metrics.RocAuc >= 0.9, $"ROC AUC {metrics.RocAuc}");

        // Predictions agree with Evaluate's verdicts and the threshold rule; scores are probabilities.
        IReadOnlyList<DefectPrediction> predictions = model.PredictFiles(test.Select(i => i.ImagePath).ToArray());
        foreach (DefectPrediction p in predictions)
        {
            Assert.Equal(1f, p.LabelScores.Values.Sum(), 1e-4);
            Assert.Equal(p.LabelScores["anomaly"] >= model.Threshold, p.Label == "anomaly");
            Assert.Equal(p.LabelScores["anomaly"], p.Score, 1e-6);
            Assert.Equal(p.IsDefect, p.Confidence >= 0.5f);
            Assert.Equal(p.Label == "anomaly", p.IsDefect);
        }

        // Embedded backbone: the loaded model predicts the same scores.
        string file = Path.Combine(_dir, "cookies.ddmodel");
        model.Save(file);
        Assert.Throws<IOException>(() => model.Save(file));
        ModelManifest manifest = ModelPackage.ReadManifest(file);
        Assert.Equal("classification", manifest.Task);
        Assert.Equal(ModelPackage.ComputeSha256(ModelPath), manifest.Backbone!.Sha256);
        Assert.True(manifest.Backbone.Embedded);
        Assert.Equal(model.Backbone!.Layers, manifest.Backbone.TappedLayers);
        Assert.Equal(12, manifest.TrainingData!.ImageCount);
        using (ImageClassificationModel loaded = (ImageClassificationModel)DefectModel.Load(file))
        {
            Assert.Equal(model.Threshold, loaded.Threshold);
            IReadOnlyList<DefectPrediction> again = loaded.PredictFiles(test.Select(i => i.ImagePath).ToArray());
            for (int i = 0; i < again.Count; i++)
            {
                Assert.Equal(predictions[i].Label, again[i].Label);
                Assert.Equal(predictions[i].LabelScores["anomaly"], again[i].LabelScores["anomaly"], 1e-5f);
            }
        }

        // Referenced backbone: loading needs the file, and a different file is refused by its hash.
        string referenced = Path.Combine(_dir, "referenced.ddmodel");
        model.Save(referenced, new DefectModelSaveOptions { EmbedBackbone = false });
        Assert.True(new FileInfo(referenced).Length < new FileInfo(file).Length / 10);
        Assert.Throws<ModelFileException>(() => DefectModel.Load(referenced));
        string other = SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-dynamic.onnx");
        ModelFileException wrong = Assert.Throws<ModelFileException>(() => DefectModel.Load(referenced, new DefectModelLoadOptions { BackbonePath = other }));
        Assert.Contains("SHA-256", wrong.Message, StringComparison.Ordinal);
        using IDefectModel withFile = DefectModel.Load(referenced, new DefectModelLoadOptions { BackbonePath = ModelPath });
        Assert.Equal(predictions[0].Label, LoadAndPredict(withFile, test[0].ImagePath).Label);

        // As a pipeline crop classifier.
        using Image cookie = ImageCodecs.Load(test[0].ImagePath);
        CropVerdict verdict = Assert.Single(((ICropClassifier)model).Classify([cookie]));
        Assert.Equal(predictions[0].Label, verdict.Label);
        Assert.Equal(predictions[0].IsDefect, verdict.IsDefect);
    }

    [SharedFact]
    public void WeightFreeModelRetrainsFromTheCacheAndRoundTrips()
    {
        using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { Augmentation = ImageAugmentation.FlipHorizontal });
        ImageDataset train = SmallTrainingSet();
        using ImageClassificationModel first = trainer.Fit(train);
        Assert.Equal(0, trainer.CacheHits);
        Assert.Equal(12, first.Training.AugmentedCount);
        using ImageClassificationModel second = trainer.Fit(train);
        Assert.Equal(12, trainer.CacheHits);
        Assert.Null(first.Backbone);

        string file = Path.Combine(_dir, "wf.ddmodel");
        first.Save(file);
        Assert.Null(ModelPackage.ReadManifest(file).Backbone);
        using ImageClassificationModel loaded = (ImageClassificationModel)DefectModel.Load(file);
        string[] paths = SmallTestSet().Select(i => i.ImagePath).ToArray();
        float[] before = first.PredictFiles(paths).Select(p => p.LabelScores["anomaly"]).ToArray();
        float[] after = loaded.PredictFiles(paths).Select(p => p.LabelScores["anomaly"]).ToArray();
        Assert.Equal(before, after);
    }

    [SharedFact]
    public void FileNamesGiveTheLabelsOfTheCookieFolders()
    {
        ImageDataset train = FileNameDataset.Read(SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "training-images"));
        Assert.Equal(31, train.CountByLabel()["normal"]);
        Assert.Equal(32, train.CountByLabel()["anomaly"]);
        ImageDataset test = FileNameDataset.Read(SharedData.PathOf("datasets", "lfv-cookies", "test-images"));
        Assert.Equal(14, test.CountByLabel()["normal"]);
        Assert.Equal(8, test.CountByLabel()["anomaly"]);
    }

    [SharedFact]
    public void DefectVersusNormalMetricsFollowThePredictedLabelsOfAMultiLabelModel()
    {
        // Three magnetic-tile labels, weight-free features: P(defect) = 1 - P(free); without a defect threshold a
        // defect is a non-normal likeliest label, so the 2x2 matrix must equal the count of those verdicts.
        ImageDataset all = ImageDataset.FromSplitsFile(SharedData.PathOf("datasets", "magnetic-tile", "splits.json"), "classification", "train");
        string[] labels = ["blowhole", "free", "uneven"];
        ImageDataset Take(int skip, int count) => new(labels.SelectMany(l => all.Where(i => i.Label == l).Skip(skip).Take(count)), labels);
        ImageDataset train = Take(0, 8), test = Take(8, 5);
        using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { NormalLabels = ["free"] });
        using ImageClassificationModel model = trainer.Fit(train);
        Assert.Null(model.PositiveLabel);
        Assert.Null(model.Threshold);
        (ClassificationMetrics byLabel, ClassificationMetrics? defects) = model.EvaluateBoth(test);
        Assert.NotNull(defects);
        Assert.Equal(3, byLabel.Labels.Count);
        IReadOnlyList<DefectPrediction> predictions = model.PredictFiles(test.Select(i => i.ImagePath).ToArray());
        int[][] expected = [new int[2], new int[2]];
        for (int i = 0; i < test.Count; i++)
        {
            Assert.Equal(predictions[i].Label != "free", predictions[i].IsDefect);
            expected[test[i].Label == "free" ? 0 : 1][predictions[i].IsDefect ? 1 : 0]++;
        }

        Assert.Equal(expected, defects.ConfusionMatrix);
        Assert.Equal(["normal", "defect"], defects.Labels);
        Assert.InRange(defects.RocAuc!.Value, 0, 1);
    }

    [Fact]
    public void BadDatasetsAndOptionsAreRejectedClearly()
    {
        File.WriteAllBytes(Path.Combine(_dir, "cookie-7.jpg"), [0xFF, 0xD8]);
        DatasetException ex = Assert.Throws<DatasetException>(() => FileNameDataset.Read(_dir));
        Assert.Contains("none of the labels", ex.Message, StringComparison.Ordinal);
        Assert.Throws<DatasetException>(() => FileNameDataset.Read(Path.Combine(_dir, "missing")));

        using ImageClassificationTrainer trainer = new();
        ImageDataset oneLabel = new([new LabeledImage("a.jpg", "normal"), new LabeledImage("b.jpg", "normal")], ["normal"]);
        Assert.Throws<ArgumentException>(() => trainer.Fit(oneLabel));
        ImageDataset tooFew = new([new LabeledImage("a.jpg", "normal"), new LabeledImage("b.jpg", "normal"), new LabeledImage("c.jpg", "anomaly")], ["anomaly", "normal"]);
        ArgumentException few = Assert.Throws<ArgumentException>(() => trainer.Fit(tooFew));
        Assert.Contains("anomaly", few.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageClassificationTrainer(new ImageClassificationOptions { ThresholdFolds = 1 }));
        Assert.Throws<FileNotFoundException>(() => new ImageClassificationTrainer(new ImageClassificationOptions { Backbone = BackboneSpec.FromFile(Path.Combine(_dir, "none.onnx")) }));
    }

    private static DefectPrediction LoadAndPredict(IDefectModel model, string path)
    {
        using Image image = ImageCodecs.Load(path);
        return model.Predict(image.View());
    }

    private sealed class ListProgress(List<TrainingProgress> list) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            lock (list)
            {
                list.Add(value);
            }
        }
    }
}

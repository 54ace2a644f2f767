using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.ModelFiles;
using DefectDetection.Testing;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;

namespace DefectDetection.Vision.Tests.Classification;

/// <summary>
/// The image classifier's automatic configuration (docs/auto-config.md, "Image classifier"): unset settings are chosen
/// by cross-validation with the one-standard-error rule, given ones are kept, the choice does not depend on the order of
/// the images, and the record survives the model file.
/// </summary>
public sealed class ClassifierSearchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-clsearch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheClearlyBetterCandidateIsChosenAndEqualOnesKeepTheCheapest()
    {
        // Three labels of 15 samples; max pooling "sees" the label, average pooling is noise.
        const int perLabel = 15, labels = 3, d = 8;
        int[] y = [.. Enumerable.Range(0, perLabel * labels).Select(i => i % labels)];
        float[][] informative = Rows(y, d, separation: 4, seed: 1);
        float[][] noise = Rows(y, d, separation: 0, seed: 2);
        ClassifierSetting start = new(1, FeaturePooling.Average, ImageAugmentation.None, SoftmaxClassifierOptions.DefaultL2, WeightFree: false);
        Func<ClassifierSetting, ClassifierSetting[]> pooling = s => [s with { Pooling = FeaturePooling.Average }, s with { Pooling = FeaturePooling.Max }, s with { Pooling = FeaturePooling.AverageAndMax }];

        ClassifierSearch clear = Search(s => s.Pooling == FeaturePooling.Average ? noise : informative, y, labels);
        (ClassifierSetting chosen, List<SearchCandidate> candidates) = clear.Run([pooling], start, double.PositiveInfinity, null, CancellationToken.None);
        Assert.Equal(FeaturePooling.Max, chosen.Pooling); // better than average by far; avg+max is not cheaper
        Assert.Equal(3, candidates.Count);
        Assert.True(candidates[1].Figures["macro_f1"] > candidates[0].Figures["macro_f1"] + 0.3);

        // The same features for every candidate: nothing beats the cheapest by more than the noise.
        ClassifierSearch equal = Search(_ => informative, y, labels);
        Assert.Equal(FeaturePooling.Average, equal.Run([pooling], start, double.PositiveInfinity, null, CancellationToken.None).Chosen.Pooling);
    }

    [Fact]
    public void UnsetSettingsAreSearchedGivenOnesAreKept()
    {
        ImageDataset data = Textures();
        using ImageClassificationTrainer trainer = new();
        using ImageClassificationModel model = trainer.Fit(data);
        TrainingSearch search = Assert.IsType<TrainingSearch>(model.Training.Search);
        Assert.Equal(["l2", "augmentation"], search.Searched); // the weight-free extractor has no taps or pooling
        Assert.Equal(6, search.Candidates.Count); // five L2 values, then flips
        Assert.Contains(search.Candidates, c => c.Name == search.Chosen);
        Assert.All(search.Candidates, c => Assert.InRange(c.Figures["roc_auc"], 0, 1));
        Assert.Equal(data.Count, search.TrainImages);
        Assert.Contains("one standard error", search.Criterion, StringComparison.Ordinal);

        // Explicit options (or the search switched off) pin the values: no search, no record.
        using ImageClassificationTrainer pinned = new(new ImageClassificationOptions { Augmentation = ImageAugmentation.None, Head = new SoftmaxClassifierOptions { L2 = 1e-3 } });
        using ImageClassificationModel fixedModel = pinned.Fit(data);
        Assert.Null(fixedModel.Training.Search);
        Assert.Equal(0, fixedModel.Training.AugmentedCount);
        using ImageClassificationTrainer off = new(new ImageClassificationOptions { AutoConfig = new AutoConfigOptions { Enabled = false } });
        using ImageClassificationModel offModel = off.Fit(data);
        Assert.Null(offModel.Training.Search);
    }

    [Fact]
    public void TheSameImagesInAnotherOrderGiveTheSameChoiceAndTheRecordSurvivesTheFile()
    {
        ImageDataset data = Textures();
        ImageDataset shuffled = new(data.Reverse().ToArray(), data.Labels);
        using ImageClassificationTrainer trainer = new();
        using ImageClassificationModel a = trainer.Fit(data);
        using ImageClassificationModel b = trainer.Fit(shuffled);
        TrainingSearch sa = a.Training.Search!, sb = b.Training.Search!;
        Assert.Equal(sa.Chosen, sb.Chosen);
        Assert.Equal(sa.Candidates.Select(c => c.Figures["roc_auc"]), sb.Candidates.Select(c => c.Figures["roc_auc"]));

        string file = Path.Combine(_dir, "searched.ddmodel");
        a.Save(file);
        TrainingSearch read = ModelPackage.ReadManifest(file).Search!;
        Assert.Equal(sa.Chosen, read.Chosen);
        Assert.Equal(sa.Criterion, read.Criterion);
        Assert.Equal(sa.Searched, read.Searched);
        Assert.Equal(sa.Candidates.Select(c => (c.Name, c.Figures["roc_auc"], c.Settings["l2"])), read.Candidates.Select(c => (c.Name, c.Figures["roc_auc"], c.Settings["l2"])));
        using ImageClassificationModel loaded = (ImageClassificationModel)DefectModel.Load(file);
        Assert.Equal(sa.Chosen, loaded.Training.Search!.Chosen);
    }

    [Fact]
    public void CandidatesPastTheTimeBudgetAreSkippedAndRecorded()
    {
        using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { AutoConfig = new AutoConfigOptions { TimeBudget = TimeSpan.FromTicks(1) } });
        using ImageClassificationModel model = trainer.Fit(Textures());
        TrainingSearch search = model.Training.Search!;
        Assert.Null(search.Candidates[0].Skipped); // the cheapest always runs
        Assert.All(search.Candidates.Skip(1), c => Assert.StartsWith("time budget", c.Skipped, StringComparison.Ordinal));
        Assert.Equal(search.Candidates[0].Name, search.Chosen);
    }

    [SharedFact]
    public void ABackboneSearchesTapsAndPoolingAndTheModelKeepsTheChosenPart()
    {
        string backbone = SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");
        ImageDataset data = Textures();
        using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { Backbone = BackboneSpec.MobileNetV2Int8(backbone), Augmentation = ImageAugmentation.None, Threads = 2 });
        OnnxFeatureExtractor all = Assert.IsType<CombinedFeatureExtractor>(trainer.Extractor).Onnx;
        Assert.Equal(3, all.Backbone.Layers.Count); // the default tap, then features.13 and features.6
        Assert.Equal(FeaturePooling.AverageAndMax, all.Pooling);
        using ImageClassificationModel model = trainer.Fit(data);
        TrainingSearch search = model.Training.Search!;
        Assert.Equal(["pooling", "taps", "weight_free", "l2"], search.Searched);
        SearchCandidate chosen = search.Candidates.First(c => c.Name == search.Chosen);
        Assert.Equal((int)chosen.Settings["taps"], model.Backbone!.Layers.Count);
        Assert.Equal(all.Backbone.Layers.Take(model.Backbone.Layers.Count), model.Backbone.Layers);
        OnnxFeatureExtractor kept = model.Extractor as OnnxFeatureExtractor ?? Assert.IsType<CombinedFeatureExtractor>(model.Extractor).Onnx;
        Assert.Equal((FeaturePooling)(int)chosen.Settings["pooling"], kept.Pooling);
        Assert.Equal(chosen.Settings["weight_free"] == 1, model.Extractor is CombinedFeatureExtractor);

        // The saved model rebuilds the same extractor and predicts the same scores.
        string file = Path.Combine(_dir, "backbone.ddmodel");
        model.Save(file);
        using ImageClassificationModel loaded = (ImageClassificationModel)DefectModel.Load(file);
        Assert.Equal(model.Extractor.Identity, loaded.Extractor.Identity);
        string[] paths = [.. data.Take(4).Select(i => i.ImagePath)];
        IReadOnlyList<DefectPrediction> before = model.PredictFiles(paths), after = loaded.PredictFiles(paths);
        for (int i = 0; i < paths.Length; i++)
        {
            Assert.Equal(before[i].Score, after[i].Score, 1e-5);
        }
    }

    // Sixteen textures, half with a painted square (the defect), saved as PNG files.
    private ImageDataset Textures()
    {
        List<LabeledImage> images = [];
        for (int i = 0; i < 16; i++)
        {
            bool defect = i % 2 == 1;
            using Image image = SyntheticImages.Texture(100 + i, 96, defect ? img => SyntheticImages.Paint(img, 10 + (3 * i), 20 + (2 * i), 14) : null);
            string path = Path.Combine(_dir, $"t{i}.png");
            if (!File.Exists(path))
            {
                ImageCodecs.Save(image, path);
            }

            images.Add(new LabeledImage(path, defect ? "anomaly" : "normal"));
        }

        return new ImageDataset(images, ["anomaly", "normal"]);
    }

    private static float[][] Rows(int[] y, int d, double separation, int seed)
    {
        Random random = new(seed);
        return [.. y.Select(label => Enumerable.Range(0, d).Select(k => (float)((k == label ? separation : 0) + (random.NextDouble() * 2) - 1)).ToArray())];
    }

    private static ClassifierSearch Search(Func<ClassifierSetting, float[][]> features, int[] y, int labels)
    {
        string[] names = [.. y.Select(v => "l" + v)];
        return new ClassifierSearch(features, (s, _) => [.. y.Select(_ => new List<float[]>())], (x, _, l2) => OutOfFold(x, names, l2), y, labels, -1, 1);
    }

    // Five folds dealt round-robin; a head per fold.
    private static float[][] OutOfFold(float[][] x, string[] y, double l2)
    {
        float[][] p = new float[x.Length][];
        for (int f = 0; f < 5; f++)
        {
            int[] train = [.. Enumerable.Range(0, x.Length).Where(i => i % 5 != f)];
            SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { L2 = l2, ValidationFraction = 0 })
                .Fit([.. train.Select(i => x[i])], [.. train.Select(i => y[i])]);
            foreach (int i in Enumerable.Range(0, x.Length).Where(i => i % 5 == f))
            {
                p[i] = new float[head.Labels.Count];
                head.PredictProbabilities(x[i], p[i]);
            }
        }

        return p;
    }
}

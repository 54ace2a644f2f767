using DefectDetection.Vision.Backbones;
using DefectDetection.Datasets;
using DefectDetection.ModelFiles;
using DefectDetection.Imaging;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Tests.Classification;

namespace DefectDetection.Vision.Tests.Models;

/// <summary>
/// The program of docs/one-model-contract.md: every learner trains, saves, loads with the one loader alone, predicts
/// and writes the shared JSON through the same calls.
/// </summary>
public sealed class OneContractTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("one-contract-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The program (docs/one-model-contract.md), whatever the learner.
    private static (DefectPrediction Before, DefectPrediction After, string Json) TrainSaveLoadPredict(IDefectTrainer trainer, ImageDataset data, string file, string image)
    {
        using Image picture = ImageCodecs.Load(image);
        DefectPrediction before;
        using (IDefectModel trained = trainer.Fit(data))
        {
            trained.Save(file);
            before = trained.Predict(picture.View());
        }

        using IDefectModel model = DefectModel.Load(file);
        DefectPrediction after = model.Predict(picture.View());
        return (before, after, PredictionReport.ToJson([PredictionReport.From(after, image)]));
    }

    [SharedTheory]
    [InlineData(Learners.ImageClassifier)]
    [InlineData(Learners.PatchCore)]
    [InlineData(Learners.VariationModel)]
    [InlineData(Learners.PinResidual)]
    [InlineData(Learners.TemplateDifference)]
    public void EveryLearnerTrainsSavesLoadsAndPredictsThroughTheSameCalls(string learner)
    {
        (IDefectTrainer trainer, ImageDataset data, string defective, string good) = Setup(learner);
        string file = Path.Combine(_dir, learner + ".ddmodel");
        (DefectPrediction before, DefectPrediction after, string json) = TrainSaveLoadPredict(trainer, data, file, defective);
        PredictionSchema.Validate(json);
        Assert.Equal(learner, DefectModel.LearnerOf(file));
        Assert.True(after.IsDefect, $"{learner}: the defective image was judged good: {json}");
        Assert.Equal(before.Score, after.Score, 1e-9);
        Assert.Equal(before.Label, after.Label);
        Assert.Equal(before.Defects.Select(d => d.Box), after.Defects.Select(d => d.Box));
        Assert.InRange(after.Confidence, 0.5f, 1f);

        // The good image, and the threshold moved above its score: the verdict follows without retraining.
        using IDefectModel model = DefectModel.Load(file);

        // Through a stream: the same bytes' model scores the same.
        using (MemoryStream bytes = new())
        {
            model.Save(bytes);
            bytes.Position = 0;
            using IDefectModel fromStream = DefectModel.Load(bytes);
            using Image again = ImageCodecs.Load(defective);
            Assert.Equal(after.Score, fromStream.Predict(again.View()).Score, 1e-9);
        }

        using Image image = ImageCodecs.Load(good);
        DefectPrediction p = model.Predict(image.View());
        Assert.False(p.IsDefect, $"{learner}: the good image was judged a defect (score {p.Score}, threshold {p.Threshold})");
        Assert.True(p.Confidence < 0.5f);
        using Image bad = ImageCodecs.Load(defective);
        double score = after.Score;
        double[] thresholds = model.Task == DefectTask.AnomalyDetection
            ? [score / 2, score * 2 + 1]
            : [.. new[] { score / 2, (score + 1) / 2 }.Where(t => t > 0 && t < 1)];
        foreach (double t in thresholds)
        {
            using IDefectModel moved = model.WithThreshold(t);
            DefectPrediction q = moved.Predict(bad.View());
            Assert.Equal(score, q.Score, 1e-9);
            Assert.Equal(t, q.Threshold);
            Assert.True(q.IsDefect == (score >= t), $"{learner}: score {score} at threshold {t} judged {(q.IsDefect ? "defect" : "good")}");
            Assert.Equal(q.IsDefect, q.Confidence >= 0.5f);
        }

        Assert.True(model.Predict(bad.View()).IsDefect, "the original model keeps its threshold");
    }

    [Theory]
    [InlineData(Learners.ImageClassifier)]
    [InlineData(Learners.VariationModel)]
    [InlineData(Learners.PinResidual)]
    [InlineData(Learners.TemplateDifference)]
    public void EveryLearnerGivesTheSameModelWhateverTheOrderOfItsImages(string learner) => SameModelInAnyOrder(learner);

    [SharedFact]
    public void PatchCoreGivesTheSameModelWhateverTheOrderOfItsImages() => SameModelInAnyOrder(Learners.PatchCore);

    // The dataset as listed, reversed and shuffled gives bit-identical tensors, threshold and settings (times aside).
    private void SameModelInAnyOrder(string learner)
    {
        (IDefectTrainer trainer, ImageDataset data, _, _) = Setup(learner);
        LabeledImage[] shuffled = [.. data];
        new Random(3).Shuffle(shuffled);
        ModelPackage reference = Package(trainer, data);
        foreach (ImageDataset other in new[] { new ImageDataset(data.Reverse(), data.Labels), new ImageDataset(shuffled, data.Labels) })
        {
            ModelPackage package = Package(trainer, other);
            Assert.Equal(reference.Manifest.Threshold, package.Manifest.Threshold);
            Assert.Equal(Settings(reference), Settings(package));
            Assert.Equal(reference.Tensors.Keys.Order(), package.Tensors.Keys.Order());
            foreach ((string name, ModelTensor tensor) in reference.Tensors)
            {
                Assert.Equal(tensor.Shape, package.Tensors[name].Shape);
                Assert.True(tensor.Data.AsSpan().SequenceEqual(package.Tensors[name].Data), $"{learner}: the tensor {name} depends on the order of the images");
            }
        }

        (trainer as IDisposable)?.Dispose();
    }

    // The learner's section and the preprocessing and backbone blocks, as JSON, but the training times.
    private static string Settings(ModelPackage package)
    {
        ModelManifest m = package.Manifest;
        System.Text.Json.Nodes.JsonNode node = System.Text.Json.JsonSerializer.SerializeToNode(
            new object?[] { m.ImageClassifier, m.PatchCore, m.Variation, m.PinResidual, m.TemplateDifference, m.Preprocessing, m.Backbone })!;
        foreach (System.Text.Json.Nodes.JsonObject section in node.AsArray().OfType<System.Text.Json.Nodes.JsonObject>())
        {
            foreach (string key in section.Select(p => p.Key).Where(k => k.EndsWith("Seconds", StringComparison.Ordinal)).ToList())
            {
                section.Remove(key);
            }
        }

        return node.ToJsonString();
    }

    private static ModelPackage Package(IDefectTrainer trainer, ImageDataset data)
    {
        using IDefectModel model = trainer.Fit(data);
        using MemoryStream bytes = new();
        model.Save(bytes);
        bytes.Position = 0;
        return ModelPackage.Load(bytes);
    }

    private (IDefectTrainer Trainer, ImageDataset Data, string Defective, string Good) Setup(string learner) => learner switch
    {
        Learners.ImageClassifier => (new ImageClassificationTrainer(new ImageClassificationOptions { WeightFree = new() { Size = 64 }, Threads = 2 }), Textures(), Save(Texture(900, true), "bad.png"), Save(Texture(901, false), "good.png")),
        Learners.PatchCore => (new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threads = 2, InputSize = 96, CoresetRatio = 0.25 }), Textures(), Save(Texture(900, true), "bad.png"), Save(Texture(901, false), "good.png")),
        Learners.VariationModel => (new VariationModelTrainer(new VariationModelOptions { MaxShift = 4 }), Scenes(), Save(SyntheticImages.Pattern(100, 1, 1, i => SyntheticImages.Square(i, 20, 30, 6, 255)), "bad.png"), Save(SyntheticImages.Pattern(99, 1, 1), "good.png")),
        Learners.PinResidual => (new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions { ChannelWeights = [1, 0, -1], Prototypes = 4, JoinDistance = 6, Seed = 1 }), Crops(),
            Save(ResidualCropClassifierTests.Draw(new Random(5), ResidualCropClassifierTests.Kind.Filled).Crop, "bad.png"), Save(ResidualCropClassifierTests.Draw(new Random(6), ResidualCropClassifierTests.Kind.Normal).Crop, "good.png")),
        _ => (new TemplateDifferenceClassifierTrainer(new TemplateDifferenceClassifierOptions { Tolerance = 1, MaxShift = 2, Trees = 16, Augment = false, Detector = TracePairs.DetectorOptions }), Pairs(),
            Save(TracePairs.Pair(50).Test, "bad.png"), Path.Combine(_dir, "pairs", "reference.png")),
    };

    private string Save(Image image, string name)
    {
        string path = Path.Combine(_dir, name);
        using (image)
        {
            ImageCodecs.Save(image, path);
        }

        return path;
    }

    // Textures; anomalies carry a painted square (the classifier and PatchCore).
    private static Image Texture(int seed, bool defect) => SyntheticImages.Texture(seed, 96, defect ? i => SyntheticImages.Paint(i, 50, 20, 16) : null);

    private ImageDataset Textures() => new(Enumerable.Range(0, 16).Select(i =>
        new LabeledImage(Save(Texture(100 + i, i % 2 == 1), $"texture-{i}.png"), i % 2 == 1 ? "anomaly" : "normal")));

    private ImageDataset Scenes() => new(Enumerable.Range(0, 8).Select(i =>
        new LabeledImage(Save(SyntheticImages.Pattern(10 + i, (i % 3) - 1, (i % 2) * 2), $"scene-{i}.png"), "normal")));

    // Pin crops with their defect boxes (a copper blob beside the pad, or an undrilled hole).
    private ImageDataset Crops()
    {
        Random rng = new(7);
        return new(Enumerable.Range(0, 160).Select(i =>
        {
            ResidualCropClassifierTests.Kind kind = i % 8 == 3 ? ResidualCropClassifierTests.Kind.Blob : i % 8 == 6 ? ResidualCropClassifierTests.Kind.Filled : ResidualCropClassifierTests.Kind.Normal;
            (Image crop, Rectangle truth) = ResidualCropClassifierTests.Draw(rng, kind);
            LabeledBox[] boxes = kind == ResidualCropClassifierTests.Kind.Normal ? [] : [new LabeledBox(kind == ResidualCropClassifierTests.Kind.Blob ? truth.Inflate(2) : truth, kind.ToString())];
            return new LabeledImage(Save(crop, $"crop-{i}.png"), kind == ResidualCropClassifierTests.Kind.Normal ? "normal" : "defect") { Boxes = boxes };
        }));
    }

    // Test/golden-template pairs of traces sharing one template, with their defect boxes.
    private ImageDataset Pairs()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "pairs"));
        List<LabeledImage> items = [];
        for (int seed = 0; seed < 10; seed++)
        {
            (Image test, Image reference, List<LabeledBox> defects) = TracePairs.Pair(seed);
            string golden = Path.Combine(_dir, "pairs", "reference.png");
            if (seed == 0)
            {
                Save(reference, Path.Combine("pairs", "reference.png"));
            }
            else
            {
                reference.Dispose();
            }

            items.Add(new LabeledImage(Save(test, Path.Combine("pairs", $"test-{seed}.png")), "pair") { ReferencePath = golden, Boxes = defects });
        }

        return new ImageDataset(items);
    }
}

using System.IO.Compression;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Testing;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Combined;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.LearnerChoice;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Tests.Models;

/// <summary>
/// The learner choice of labelled data (docs/auto-config.md, "Which learner"): the rule on out-of-fold scores, the
/// trainer's cases, and the combined model's arithmetic and file.
/// </summary>
public sealed class LearnerChoiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-learner-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheRuleKeepsTheCheapestLearnerUnlessACostlierOneWinsBeyondTheNoise()
    {
        // 30 normal rows, then 30 defect rows.
        bool[] truth = [.. Enumerable.Range(0, 60).Select(i => i >= 30)];
        Random random = new(5);
        double[] Noise(double separation) => [.. truth.Select(t => (t ? separation : 0) + random.NextDouble())];
        double[] perfect = [.. truth.Select((t, i) => t ? 2 + (i * 0.01) : i * 0.01)];
        double[] useless = Noise(0);

        // A perfect classifier: nothing can beat it; AUC 1 by hand.
        (int chosen, double[] auc, _) = LearnerChoiceTrainer.Decide([perfect, Noise(0.5), Noise(0.5)], truth, twoLabels: true, seed: 1);
        Assert.Equal(0, chosen);
        Assert.Equal(1.0, auc[0]);

        // A useless classifier and a perfect anomaly model: the anomaly model (and the sum cannot beat a perfect one).
        double[] sum = [.. useless.Select((u, i) => u + perfect[i])];
        (chosen, auc, double[] se) = LearnerChoiceTrainer.Decide([useless, perfect, sum], truth, twoLabels: true, seed: 1);
        Assert.Equal(1, chosen);
        Assert.True(auc[1] - auc[0] > se[1]);

        // With several labels the anomaly model alone is no candidate, even a perfect one.
        (chosen, _, se) = LearnerChoiceTrainer.Decide([useless, perfect, useless], truth, twoLabels: false, seed: 1);
        Assert.Equal(0, chosen);
        Assert.Equal(0, se[1]);

        // Two weak, independent scores: their sum separates better than either, by more than the noise.
        double[] c = Noise(0.6), a = Noise(0.6), both = [.. c.Select((v, i) => v + a[i])];
        (chosen, auc, se) = LearnerChoiceTrainer.Decide([c, a, both], truth, twoLabels: false, seed: 1);
        Assert.Equal(2, chosen);
        Assert.Equal(BinaryMetrics.RocAuc(both, truth), auc[2]);
        Assert.True(auc[2] - auc[0] > se[2]);

        // Equal figures keep the cheapest.
        (chosen, _, _) = LearnerChoiceTrainer.Decide([c, c, c], truth, twoLabels: true, seed: 1);
        Assert.Equal(0, chosen);
    }

    [Fact]
    public void WithoutAnAnomalyCandidate_LabelledImagesTrainTheClassifier_AndGoodImagesAloneAreRefusedWithTheReason()
    {
        ImageDataset data = Textures(12);
        LearnerChoiceTrainer trainer = new(new LearnerChoiceOptions { Classifier = new ImageClassificationOptions { Threads = 2 } });
        using var model = Assert.IsType<ImageClassificationModel>(trainer.Fit(data));
        TrainingSearch choice = model.Training.Search!.LearnerChoice!;
        Assert.Equal(LearnerChoiceTrainer.ClassifierCandidate, choice.Chosen);
        Assert.Equal("no backbone for the anomaly model", choice.Candidates.Single(c => c.Name == LearnerChoiceTrainer.AnomalyCandidate).Skipped);

        ImageDataset good = new([.. data.Where(i => i.Label == "normal")]);
        ArgumentException e = Assert.Throws<ArgumentException>(() => trainer.Fit(good));
        Assert.Contains("only normal images", e.Message);
        Assert.Contains("no backbone", e.Message);
    }

    [SharedFact]
    public void GoodImagesAloneTrainAnAnomalyModel_LabelledOnesCompareAllThree_WhateverTheirOrder()
    {
        BackboneSpec backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq);
        LearnerChoiceTrainer trainer = new(new LearnerChoiceOptions
        {
            Classifier = new ImageClassificationOptions { Backbone = backbone, Threads = 2 },
            Anomaly = Pinned(backbone),
        });
        ImageDataset data = Textures(24);

        using (var anomaly = Assert.IsType<PatchCoreModel>(trainer.Fit(new ImageDataset([.. data.Where(i => i.Label == "normal")]))))
        {
            TrainingSearch choice = anomaly.Search!.LearnerChoice!;
            Assert.Equal(LearnerChoiceTrainer.AnomalyCandidate, choice.Chosen);
            Assert.Equal("the data has no labelled defects", Assert.Single(choice.Candidates).Skipped);
        }

        using IDefectModel model = trainer.Fit(data);
        using IDefectModel reversed = trainer.Fit(new ImageDataset([.. data.Reverse()]));
        TrainingSearch record = Choice(model), again = Choice(reversed);
        Assert.Equal([LearnerChoiceTrainer.ClassifierCandidate, LearnerChoiceTrainer.AnomalyCandidate, LearnerChoiceTrainer.CombinedCandidate], record.Candidates.Select(c => c.Name));
        Assert.All(record.Candidates, c => Assert.InRange(c.Figures["roc_auc"], 0, 1));
        Assert.Equal(record.Chosen, again.Chosen);
        Assert.Equal(record.Candidates.Select(c => c.Figures["roc_auc"]), again.Candidates.Select(c => c.Figures["roc_auc"]));
        Assert.Equal(24, record.ValidationImages); // 12 normals scored in calibration folds, 12 defects
        Assert.Equal(record.Chosen switch
        {
            LearnerChoiceTrainer.ClassifierCandidate => typeof(ImageClassificationModel),
            LearnerChoiceTrainer.AnomalyCandidate => typeof(PatchCoreModel),
            _ => typeof(CombinedModel),
        }, model.GetType());

        // The record survives the model file.
        string file = Path.Combine(_dir, "chosen.ddmodel");
        model.Save(file);
        using IDefectModel loaded = DefectModel.Load(file);
        Assert.Equal(record.Chosen, Choice(loaded).Chosen);
    }

    [SharedFact]
    public void TheCombinedModelAddsItsMembersStandardisedScores_AndItsFileHoldsTheBackboneOnce()
    {
        BackboneSpec backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq);
        ImageDataset data = Textures(16);
        using ImageClassificationTrainer classifierTrainer = new(new ImageClassificationOptions { Backbone = backbone, Threads = 2 });
        ImageClassificationModel classifier = classifierTrainer.Fit(data);
        PatchCoreModel anomaly = new PatchCoreTrainer(Pinned(backbone)).Fit(data);
        Standardisation zc = new(-2, 3), za = new(anomaly.CalibrationScores.Average(), 0.5);
        using CombinedModel model = new(classifier, anomaly, zc, za, threshold: 1.5, confidenceScale: 2, "test rule", null);
        string[] paths = [.. data.Select(i => i.ImagePath)];
        List<Image> images = [.. paths.Select(p => ImageCodecs.Load(p))];
        try
        {
            ImageView[] views = [.. images.Select(i => i.View())];
            IReadOnlyList<DefectPrediction> joint = model.Predict(views), c = classifier.Predict(views), a = anomaly.Predict(views);
            int defects = 0;
            for (int i = 0; i < views.Length; i++)
            {
                // By hand: the logit of P(defect), standardised, plus the standardised anomaly score.
                double p = Math.Clamp(c[i].Score, 1e-6, 1 - 1e-6);
                double expected = ((Math.Log(p / (1 - p)) + 2) / 3) + ((a[i].Score - za.Center) / 0.5);
                Assert.Equal(expected, joint[i].Score, 1e-9);
                Assert.Equal(expected >= 1.5, joint[i].IsDefect);
                Assert.Equal(joint[i].IsDefect ? "anomaly" : "normal", joint[i].Label);
                Assert.Equal(joint[i].IsDefect, joint[i].Confidence >= 0.5f);
                Assert.Equal(1.0, joint[i].LabelScores.Values.Sum(v => (double)v), 1e-5);
                Assert.Equal(a[i].AnomalyMap!.Values, joint[i].AnomalyMap!.Values);
                Assert.True(joint[i].IsDefect || joint[i].Defects.Count == 0);
                defects += joint[i].IsDefect ? 1 : 0;
            }

            Assert.InRange(defects, 1, views.Length - 1); // the threshold splits these images: both branches ran

            string file = Path.Combine(_dir, "combined.ddmodel");
            model.Save(file);
            using (ZipArchive zip = ZipFile.OpenRead(file))
            {
                Assert.Equal(["backbone.onnx", "manifest.json", "members/anomaly.ddmodel", "members/classifier.ddmodel"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
                foreach (string member in new[] { "members/anomaly.ddmodel", "members/classifier.ddmodel" })
                {
                    using Stream s = zip.GetEntry(member)!.Open();
                    using MemoryStream copy = new();
                    s.CopyTo(copy);
                    copy.Position = 0;
                    using ZipArchive inner = new(copy);
                    Assert.Null(inner.GetEntry("backbone.onnx")); // stored once, in the outer file
                }
            }

            using var loaded = Assert.IsType<CombinedModel>(DefectModel.Load(file));
            IReadOnlyList<DefectPrediction> again = loaded.Predict(views);
            for (int i = 0; i < views.Length; i++)
            {
                Assert.Equal(joint[i].Score, again[i].Score, 1e-6);
                Assert.Equal(joint[i].Label, again[i].Label);
            }

            // Another threshold: the same members and standardisation, the verdict moves.
            using IDefectModel lower = model.WithThreshold(-100);
            Assert.All(lower.Predict(views), p => Assert.True(p.IsDefect));
        }
        finally
        {
            images.ForEach(i => i.Dispose());
        }
    }

    [SharedFact]
    public void ACombinedFileWithATamperedOrUnlistedMemberIsRefusedNamingIt()
    {
        BackboneSpec backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq);
        ImageDataset data = Textures(12);
        using ImageClassificationTrainer classifierTrainer = new(new ImageClassificationOptions { Backbone = backbone, Threads = 2, Augmentation = ImageAugmentation.None, Pooling = FeaturePooling.Average, AppendWeightFree = false });
        using CombinedModel model = new(classifierTrainer.Fit(data), new PatchCoreTrainer(Pinned(backbone)).Fit(data), new(0, 1), new(0, 1), 0, 1, "rule", null);
        string file = Path.Combine(_dir, "c.ddmodel");
        model.Save(file);

        // A member's bytes changed: its hash no longer matches.
        string tampered = Path.Combine(_dir, "tampered.ddmodel");
        File.Copy(file, tampered);
        using (ZipArchive zip = ZipFile.Open(tampered, ZipArchiveMode.Update))
        {
            ZipArchiveEntry entry = zip.GetEntry("members/anomaly.ddmodel")!;
            byte[] bytes;
            using (Stream s = entry.Open())
            {
                using MemoryStream m = new();
                s.CopyTo(m);
                bytes = m.ToArray();
            }

            bytes[^10] ^= 0xFF;
            entry.Delete();
            using Stream w = zip.CreateEntry("members/anomaly.ddmodel").Open();
            w.Write(bytes);
        }

        ModelFileException e = Assert.Throws<ModelFileException>(() => DefectModel.Load(tampered));
        Assert.Contains("members/anomaly.ddmodel", e.Message);
        Assert.Contains("SHA-256", e.Message);

        // The manifest lists one member only: the other entry is unlisted, and one member is not a combined model.
        string unlisted = Path.Combine(_dir, "unlisted.ddmodel");
        ModelFileEdits.EditManifest(file, unlisted, m => m["combined"]!["members"]!.AsArray().RemoveAt(1));
        e = Assert.Throws<ModelFileException>(() => DefectModel.Load(unlisted));
        Assert.Contains("members", e.Message);

        // A nonsense scale.
        string scale = Path.Combine(_dir, "scale.ddmodel");
        ModelFileEdits.EditManifest(file, scale, m => m["combined"]!["members"]![0]!["scale"] = 0);
        e = Assert.Throws<ModelFileException>(() => DefectModel.Load(scale));
        Assert.Contains("$.combined.members[0].scale", e.Message);
    }

    private static TrainingSearch Choice(IDefectModel model) => model switch
    {
        ImageClassificationModel c => c.Training.Search!.LearnerChoice!,
        PatchCoreModel a => a.Search!.LearnerChoice!,
        CombinedModel b => b.Search!.LearnerChoice!,
        _ => throw new InvalidOperationException(model.GetType().Name),
    };

    // The anomaly model with its settings given, so that only the learner choice is exercised.
    private static PatchCoreOptions Pinned(BackboneSpec backbone) =>
        new() { Backbone = backbone, Threads = 2, InputSize = 96, Tiles = 1, ContextWeight = 0, PositionWeight = 0, BorderPatches = 1 };

    // Textures, every second one with a painted square (the defect), saved as PNG files.
    private ImageDataset Textures(int count)
    {
        List<LabeledImage> images = [];
        for (int i = 0; i < count; i++)
        {
            bool defect = i % 2 == 1;
            using Image image = SyntheticImages.Texture(300 + i, 96, defect ? img => SyntheticImages.Paint(img, 8 + (3 * (i % 10)), 12 + (4 * (i % 9)), 6 + (i % 5)) : null);
            string path = Path.Combine(_dir, $"t{i}.png");
            ImageCodecs.Save(image, path);
            images.Add(new LabeledImage(path, defect ? "anomaly" : "normal"));
        }

        return new ImageDataset(images, ["anomaly", "normal"]);
    }
}

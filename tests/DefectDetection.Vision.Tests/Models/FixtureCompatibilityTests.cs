using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.ModelFiles;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Tests.Models;

/// <summary>
/// Model files written by the library before the one model contract (tests/fixtures/models/v0.1, with the predictions
/// that version made) load through <see cref="DefectModel.Load(string, DefectModelLoadOptions?)"/> and predict the same.
/// </summary>
public class FixtureCompatibilityTests
{
    private static readonly string Folder = Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "models", "v0.1");

    // Lines: model, image (or box:x,y,w,h for the template-difference pair), verdict, label, score (and for boxes the confidence).
    private static IEnumerable<string[]> Expected(string model) =>
        File.ReadAllLines(Path.Combine(Folder, "expected.txt")).Select(l => l.Split(' ')).Where(f => f[0] == model);

    [Theory]
    [InlineData("classifier-weightfree.ddmodel", Learners.ImageClassifier)]
    [InlineData("variation.ddmodel", Learners.VariationModel)]
    public void OldFilesLoadAndPredictTheSame(string file, string learner)
    {
        using IDefectModel model = DefectModel.Load(Path.Combine(Folder, file));
        Assert.Equal(learner, model.Learner);
        AssertSamePredictions(model, file);
        AssertResavedAsCurrentFormat(model, file);
    }

    [SharedFact]
    public void OldPatchCoreFileLoadsWithItsReferencedBackbone_AndPredictsTheSame()
    {
        string file = Path.Combine(Folder, "patchcore-v1.ddmodel");
        Assert.False(ModelPackage.ReadManifest(file).Backbone!.Embedded);

        // The backbone is referenced by hash and is not beside the file: the loader says which file it needs.
        ModelFileException missing = Assert.Throws<ModelFileException>(() => DefectModel.Load(file));
        Assert.Contains(ModelPackage.ComputeSha256(SharedData.MobileNetV2Qdq), missing.Message, StringComparison.Ordinal);
        Assert.Contains("mobilenetv2-int8-qdq.onnx", missing.Message, StringComparison.Ordinal);

        using IDefectModel model = DefectModel.Load(file, new DefectModelLoadOptions { BackbonePath = SharedData.MobileNetV2Qdq });
        Assert.Equal(Learners.PatchCore, model.Learner);
        AssertSamePredictions(model, "patchcore-v1.ddmodel");
        AssertResavedAsCurrentFormat(model, "patchcore-v1.ddmodel");
    }

    [Fact]
    public void OldTemplateDifferenceFileIsResavedAsTheCurrentFormat()
    {
        using IDefectModel model = DefectModel.Load(Path.Combine(Folder, "template-difference.ddmodel"));
        string path = Path.Combine(Path.GetTempPath(), $"resaved-{Guid.NewGuid():N}.ddmodel");
        try
        {
            model.Save(path);
            AssertCurrentFormat(path, Learners.TemplateDifference);
            using IDefectModel back = DefectModel.Load(path);
            var (a, b) = ((TemplateDifferenceCropClassifier)model, (TemplateDifferenceCropClassifier)back);
            Assert.Equal(a.Labels, b.Labels);
            Assert.Equal(a.BoxSizes.OrderBy(kv => kv.Key), b.BoxSizes.OrderBy(kv => kv.Key));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Saved again, an old file is written in the current format (its learner named, its settings in the learner's
    // section, no string properties) and predicts the same.
    private static void AssertResavedAsCurrentFormat(IDefectModel model, string file)
    {
        string path = Path.Combine(Path.GetTempPath(), $"resaved-{Guid.NewGuid():N}.ddmodel");
        try
        {
            model.Save(path, new DefectModelSaveOptions { EmbedBackbone = true });
            AssertCurrentFormat(path, model.Learner);
            using IDefectModel back = DefectModel.Load(path);
            AssertSamePredictions(back, file);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertCurrentFormat(string path, string learner)
    {
        System.Text.Json.Nodes.JsonObject manifest = ModelFileEdits.Manifest(path);
        Assert.Equal(ModelPackage.CurrentFormatVersion, manifest["format_version"]!.GetValue<int>());
        Assert.Equal(learner, manifest["learner"]!.GetValue<string>());
        Assert.True(manifest.ContainsKey(learner), $"no '{learner}' section");
        Assert.False(manifest.ContainsKey("properties"));
    }

    [Fact]
    public void OldTemplateDifferenceFileLoadsAndJudgesTheSameBoxes()
    {
        using IDefectModel model = DefectModel.Load(Path.Combine(Folder, "template-difference.ddmodel"));
        TemplateDifferenceCropClassifier classifier = Assert.IsType<TemplateDifferenceCropClassifier>(model);
        using Image test = ImageCodecs.Load(Path.Combine(Folder, "images", "pair-test.png"));
        using Image reference = ImageCodecs.Load(Path.Combine(Folder, "images", "pair-reference.png"));
        string[][] expected = [.. Expected("template-difference.ddmodel")];
        Assert.Equal(3, expected.Length);
        foreach (string[] e in expected)
        {
            int[] b = [.. e[1]["box:".Length..].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
            CropVerdict v = classifier.Classify(test.View(), reference.View(), new Rectangle(b[0], b[1], b[2], b[3]));
            Assert.Equal(bool.Parse(e[2]), v.IsDefect);
            Assert.Equal(e[3], v.Label);
            // The old score was the type's probability; the score is now P(defect), which the old version gave as confidence.
            Assert.Equal(double.Parse(e[5], CultureInfo.InvariantCulture), v.Score, 1e-6);
            Assert.Equal(double.Parse(e[5], CultureInfo.InvariantCulture), v.Confidence, 1e-6);
        }
    }

    private static void AssertSamePredictions(IDefectModel model, string file)
    {
        string[][] expected = [.. Expected(file)];
        Assert.Equal(2, expected.Length);
        foreach (string[] e in expected)
        {
            using Image image = ImageCodecs.Load(Path.Combine(Folder, "images", e[1]));
            DefectPrediction p = model.Predict(image.View());
            double score = model.Learner == Learners.ImageClassifier ? p.LabelScores["anomaly"] : p.Score;
            Assert.Equal(bool.Parse(e[2]), p.IsDefect);
            Assert.Equal(e[3], p.Label);
            Assert.Equal(double.Parse(e[4], CultureInfo.InvariantCulture), score, 1e-5 * Math.Max(1, Math.Abs(score)));
        }
    }
}

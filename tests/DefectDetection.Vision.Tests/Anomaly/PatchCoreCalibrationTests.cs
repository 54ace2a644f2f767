using DefectDetection.Imaging;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>The threshold's calibration scores are out of fold: each is the score a model trained without that image gives it.</summary>
public sealed class PatchCoreCalibrationTests
{
    [SharedFact]
    public void EachCalibrationScore_IsTheScoreOfAModelTrainedOnTheOtherImages()
    {
        // Leave one out (as many folds as images) and the whole bank, so a model trained on the other images is the
        // fold's bank exactly; the scores are compared with that model's own prediction.
        List<Image> normals = [.. Enumerable.Range(0, 5).Select(i => SyntheticImages.Texture(i, 96))];
        try
        {
            PatchCoreOptions options = new()
            {
                Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq),
                Threads = 2,
                InputSize = 96,
                Tiles = 1,
                CoresetRatio = 1,
                ContextWeight = 0.5,
                Threshold = new AnomalyThresholdOptions { Folds = 5 },
            };
            List<ImageView> views = [.. normals.Select(i => i.View())];
            using PatchCoreModel model = new PatchCoreTrainer(options).Fit(views);
            Assert.Equal(5, model.CalibrationScores.Count);

            // The calibration scores come in content order; match them to the images by value.
            double[] expected = new double[normals.Count];
            for (int i = 0; i < normals.Count; i++)
            {
                using PatchCoreModel without = new PatchCoreTrainer(options with { ContextWeight = 0 }).Fit([.. views.Where((_, j) => j != i)]);
                expected[i] = without.Predict(views[i]).Score;
            }

            // Without the context term (whose weight is set from all folds) the leave-one-out scores are reproduced exactly.
            using PatchCoreModel plain = new PatchCoreTrainer(options with { ContextWeight = 0 }).Fit(views);
            Assert.Equal(expected.Order().Select(s => Math.Round(s, 4)), plain.CalibrationScores.Order().Select(s => Math.Round(s, 4)));

            // Every out-of-fold score is well above the image's score against a bank that holds it (about zero).
            Assert.All(plain.CalibrationScores, s => Assert.True(s > 0.1, $"calibration score {s}"));
            Assert.All(views, v => Assert.True(plain.Predict(v).Score < 0.05 * plain.CalibrationScores.Min(), "a training image scores near zero"));
        }
        finally
        {
            normals.ForEach(i => i.Dispose());
        }
    }
}

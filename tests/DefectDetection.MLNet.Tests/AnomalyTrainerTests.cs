using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Tests;

public sealed class AnomalyTrainerTests(CookieData cookies) : IClassFixture<CookieData>
{
    [SharedFact]
    public void AnomalyDetectionEvaluate_ReadsTheScoresAndMatchesPairCountingAndTheLibrary()
    {
        MLContext ml = cookies.Ml;
        IDataView test = ml.Data.LoadFromImageDataset(CookieData.TestSet);
        IDataView scored = cookies.Anomaly.Transform(test);

        AnomalyDetectionMetrics metrics = ml.AnomalyDetection.Evaluate(scored, labelColumnName: DefectColumnNames.AnomalyLabel);

        float[] scores = [.. scored.GetColumn<float>(DefectColumnNames.Score)];
        bool[] truth = [.. scored.GetColumn<bool>(DefectColumnNames.IsDefect)];
        Assert.Equal(22, scores.Length);
        Assert.Equal(8, truth.Count(t => t));
        Assert.Equal(CookieData.PairAuroc(scores, truth), metrics.AreaUnderRocCurve, 6);
        ModelEvaluation library = ModelEvaluator.Evaluate(cookies.Anomaly.Model, CookieData.TestSet);
        Assert.Equal(library.ImageAuroc!.Value, metrics.AreaUnderRocCurve, 6);
        Assert.Equal(1.0, metrics.AreaUnderRocCurve, 6); // the cookies figure of the README
    }

    [SharedFact]
    public void ScoreAndVerdictColumns_AreTheModelsPredictions()
    {
        MLContext ml = cookies.Ml;
        ImageDataset test = CookieData.TestSet;
        IDataView scored = cookies.Anomaly.Transform(ml.Data.LoadFromImageDataset(test));
        float[] scores = [.. scored.GetColumn<float>(DefectColumnNames.Score)];
        bool[] verdicts = [.. scored.GetColumn<bool>(DefectColumnNames.PredictedLabel)];
        float[] confidences = [.. scored.GetColumn<float>(DefectColumnNames.Probability)];
        string[] labels = [.. scored.GetColumn<string>(DefectColumnNames.PredictedClass)];
        for (int i = 0; i < test.Count; i++)
        {
            using Image image = ImageCodecs.Load(test[i].ImagePath);
            DefectPrediction p = cookies.Anomaly.Model.Predict(image.View());
            Assert.Equal((float)p.Score, scores[i]);
            Assert.Equal(p.IsDefect, verdicts[i]);
            Assert.Equal(p.Confidence, confidences[i]);
            Assert.Equal(p.Label, labels[i]);
            Assert.Equal(p.Score >= cookies.Anomaly.Model.Threshold, verdicts[i]);
        }
    }

    [SharedFact]
    public void PredictionEngine_JudgesOneImageAtATime()
    {
        MLContext ml = cookies.Ml;
        var engine = ml.Model.CreatePredictionEngine<ImageInput, AnomalyOutput>(cookies.Anomaly);
        foreach (LabeledImage item in CookieData.TestSet.Take(4))
        {
            AnomalyOutput output = engine.Predict(new ImageInput { ImagePath = item.ImagePath });
            using Image image = ImageCodecs.Load(item.ImagePath);
            DefectPrediction p = cookies.Anomaly.Model.Predict(image.View());
            Assert.Equal((float)p.Score, output.Score);
            Assert.Equal(p.IsDefect, output.PredictedLabel);
        }
    }

    [SharedFact]
    public void MLImageColumn_FromLoadImages_ScoresLikeThePathColumn()
    {
        // PNG copies, so that ML.NET's decoder and the library's see the same pixels.
        MLContext ml = cookies.Ml;
        string folder = Directory.CreateTempSubdirectory("mlnet-png-").FullName;
        try
        {
            List<LabeledImage> items = [];
            foreach (LabeledImage item in CookieData.TestSet.Where((_, i) => i % 4 == 0))
            {
                using Image image = ImageCodecs.Load(item.ImagePath);
                string png = Path.Combine(folder, Path.GetFileNameWithoutExtension(item.ImagePath) + ".png");
                ImageCodecs.Save(image.View(), png);
                items.Add(item with { ImagePath = png });
            }

            IDataView data = ml.Data.LoadFromImageDataset(new ImageDataset(items));
            float[] fromPaths = [.. cookies.Anomaly.Transform(data).GetColumn<float>(DefectColumnNames.Score)];
            IDataView images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: DefectColumnNames.ImagePath).Fit(data).Transform(data);
            using DefectModelTransformer onImages = ml.Transforms.ApplyDefectModel(cookies.Anomaly.Model, "Image").Fit(images);
            float[] fromImages = [.. onImages.Transform(images).GetColumn<float>(DefectColumnNames.Score)];
            Assert.Equal(fromPaths, fromImages);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [SharedFact]
    public void Trainer_OnAnMLImageColumn_LearnsTheModelOfTheDecodedImages()
    {
        // Normals as PNG copies, so that ML.NET's decoder gives exactly the library's pixels. The reference: the
        // library's trainer on the images decoded by the library (both order the images by a hash of their pixels).
        MLContext ml = cookies.Ml;
        string folder = Directory.CreateTempSubdirectory("mlnet-train-").FullName;
        List<Image> decoded = [];
        try
        {
            List<LabeledImage> items = [];
            for (int i = 1; i <= 6; i++)
            {
                Image image = ImageCodecs.Load(Path.Combine(CookieData.TrainingFolder, $"normal-{i}.jpg"));
                decoded.Add(image);
                string png = Path.Combine(folder, $"normal-{i}.png");
                ImageCodecs.Save(image.View(), png);
                items.Add(new LabeledImage(png, "normal"));
            }

            IDataView data = ml.Data.LoadFromImageDataset(new ImageDataset(items));
            var options = new PatchCoreEstimatorOptions { PatchCore = new Vision.PatchCore.PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq), Threads = 2 } };
            IDataView images = ml.Transforms.LoadImages("Image", null, DefectColumnNames.ImagePath).Fit(data).Transform(data);
            using DefectModelTransformer onImages = ml.AnomalyDetection.Trainers.PatchCore(new PatchCoreEstimatorOptions { ImageColumnName = "Image", PatchCore = options.PatchCore }).Fit(images);
            using Vision.PatchCore.PatchCoreModel reference = new Vision.PatchCore.PatchCoreTrainer(options.PatchCore).Fit([.. decoded.Select(d => d.View())]);
            using DefectModelTransformer onPaths = ml.AnomalyDetection.Trainers.PatchCore(options).Fit(data);
            Assert.Equal(reference.Threshold, onImages.Model.Threshold);
            foreach (LabeledImage item in CookieData.TestSet.Take(5))
            {
                using Image image = ImageCodecs.Load(item.ImagePath);
                DefectPrediction expected = reference.Predict(image.View());
                Assert.Equal(expected.Score, onImages.Model.Predict(image.View()).Score);

                // The path column's model orders the same images by their files' bytes instead: another calibration
                // split and coreset start, the same verdicts.
                Assert.Equal(expected.IsDefect, onPaths.Model.Predict(image.View()).IsDefect);
            }
        }
        finally
        {
            decoded.ForEach(d => d.Dispose());
            Directory.Delete(folder, recursive: true);
        }
    }

    [SharedFact]
    public void LabelColumn_AnomalousRowsOnlySetTheThreshold_AndAMissingLabelColumnIsNamed()
    {
        MLContext ml = cookies.Ml;
        ImageDataset few = new(CookieData.TrainingSet.Where(i => i.ImagePath.EndsWith("-1.jpg", StringComparison.Ordinal) || i.ImagePath.EndsWith("-2.jpg", StringComparison.Ordinal) || i.ImagePath.EndsWith("-3.jpg", StringComparison.Ordinal)));
        IDataView data = ml.Data.LoadFromImageDataset(few);
        var ok = ml.AnomalyDetection.Trainers.PatchCore(new PatchCoreEstimatorOptions
        {
            LabelColumnName = DefectColumnNames.IsDefect,
            PatchCore = new Vision.PatchCore.PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq), Threads = 2 },
        });
        using (DefectModelTransformer t = ok.Fit(data))
        {
            Assert.Equal(3, ((Vision.PatchCore.PatchCoreModel)t.Model).TrainingImages);
        }

        var missing = ml.AnomalyDetection.Trainers.PatchCore(new PatchCoreEstimatorOptions
        {
            LabelColumnName = "Truth",
            PatchCore = new Vision.PatchCore.PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) },
        });
        ArgumentException e = Assert.Throws<ArgumentException>(() => missing.Fit(data));
        Assert.Contains("'Truth'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_AreValidatedWhenTheTrainerIsMade()
    {
        MLContext ml = new();
        Assert.Throws<ArgumentException>(() => ml.AnomalyDetection.Trainers.PatchCore(new PatchCoreEstimatorOptions { PatchCore = new Vision.PatchCore.PatchCoreOptions() }));
    }

    public sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class AnomalyOutput
    {
        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }
}

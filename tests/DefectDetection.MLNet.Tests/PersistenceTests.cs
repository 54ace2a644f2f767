using DefectDetection.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Tests;

public sealed class PersistenceTests(CookieData cookies, SyntheticModels synthetic) : IClassFixture<CookieData>, IClassFixture<SyntheticModels>
{
    [SharedFact]
    public void FeaturizerAndMLNetTrainer_RoundTripThroughOneFile_AndPredictionEngineWorksOnTheLoadedModel()
    {
        MLContext ml = new(seed: 1);
        IDataView train = ml.Data.LoadFromImageDataset(CookieData.TrainingSet);
        IDataView test = ml.Data.LoadFromImageDataset(CookieData.TestSet);
        var pipeline = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) })
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", DefectColumnNames.Label))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "LabelKey"))
            .Append(ml.Transforms.Conversion.MapKeyToValue(DefectColumnNames.PredictedLabel));
        using var model = pipeline.Fit(train);
        string file = Path.Combine(Path.GetTempPath(), $"cookies-{Guid.NewGuid():N}.zip");
        try
        {
            // ML.NET's own save refuses with directions; the package's save keeps everything.
            NotSupportedException refused = Assert.Throws<NotSupportedException>(() => ml.Model.Save(model, train.Schema, Path.ChangeExtension(file, ".mlnet.zip")));
            Assert.Contains("SaveWithDefectDetection", refused.Message, StringComparison.Ordinal);
            ml.Model.SaveWithDefectDetection(model, train.Schema, file);

            MLContext other = new();
            ITransformer loaded = other.Model.LoadWithDefectDetection(file, out DataViewSchema? schema);
            using (loaded as IDisposable)
            {
                Assert.NotNull(schema);
                Assert.Equal(train.Schema.Select(c => (c.Name, c.Type)), schema!.Select(c => (c.Name, c.Type)));
                IDataView before = model.Transform(test), after = loaded.Transform(test);
                Assert.Equal(before.GetColumn<string>(DefectColumnNames.PredictedLabel), after.GetColumn<string>(DefectColumnNames.PredictedLabel));
                Assert.Equal(before.GetColumn<float[]>(DefectColumnNames.Score).SelectMany(s => s), after.GetColumn<float[]>(DefectColumnNames.Score).SelectMany(s => s));

                // The chain maps the label to a key, so the input class has a label member (left empty), as in ML.NET's samples.
                var engine = other.Model.CreatePredictionEngine<ClassInput, ClassOutput>(loaded);
                ClassOutput crack = engine.Predict(new ClassInput { ImagePath = Path.Combine(CookieData.Cookies, "test-images", "test-anomaly-1.jpg") });
                ClassOutput fine = engine.Predict(new ClassInput { ImagePath = Path.Combine(CookieData.Cookies, "test-images", "test-normal-1.jpg") });
                Assert.Equal("anomaly", crack.PredictedLabel);
                Assert.Equal("normal", fine.PredictedLabel);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SharedFact]
    public void AnomalyModel_RoundTripsWithIdenticalScores()
    {
        MLContext ml = cookies.Ml;
        IDataView test = ml.Data.LoadFromImageDataset(CookieData.TestSet);
        using MemoryStream stream = new();
        ml.Model.SaveWithDefectDetection(cookies.Anomaly, test.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = ml.Model.LoadWithDefectDetection(stream, out _);
        using (loaded as IDisposable)
        {
            Assert.Equal(cookies.Anomaly.Transform(test).GetColumn<float>(DefectColumnNames.Score), loaded.Transform(test).GetColumn<float>(DefectColumnNames.Score));
        }
    }

    [Fact]
    public void PlainMLNetModels_LoadThroughTheSameCall_AndGarbageIsRefusedNamingTheFile()
    {
        MLContext ml = new();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { X = 1 }, new NumberRow { X = 3 } });
        ITransformer plain = ml.Transforms.NormalizeMinMax("X").Fit(data);
        string file = Path.Combine(Path.GetTempPath(), $"plain-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(plain, data.Schema, file);
            ITransformer loaded = ml.Model.LoadWithDefectDetection(file, out DataViewSchema? schema);
            Assert.Equal(plain.Transform(data).GetColumn<float>("X").ToArray(), loaded.Transform(data).GetColumn<float>("X").ToArray());
            Assert.NotNull(schema);

            File.WriteAllText(file, "not a model");
            InvalidDataException e = Assert.Throws<InvalidDataException>(() => ml.Model.LoadWithDefectDetection(file, out _));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void DefectModelTransform_OverAVariationModel_RoundTrips()
    {
        MLContext ml = new();
        IDataView data = ml.Data.LoadFromEnumerable(synthetic.Images.Select(p => new ImageInput { ImagePath = p }));
        using DefectModelTransformer transformer = ml.Transforms.ApplyDefectModel(synthetic.Variation).Fit(data);
        float[] expected = [.. transformer.Transform(data).GetColumn<float>(DefectColumnNames.Score)];
        bool[] verdicts = [.. transformer.Transform(data).GetColumn<bool>(DefectColumnNames.PredictedLabel)];
        Assert.Equal([false, true, false, true, false, true], verdicts);

        using MemoryStream stream = new();
        ml.Model.SaveWithDefectDetection(transformer, data.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = ml.Model.LoadWithDefectDetection(stream, out _);
        using (loaded as IDisposable)
        {
            Assert.Equal(expected, loaded.Transform(data).GetColumn<float>(DefectColumnNames.Score).ToArray());
        }

        // The caller's model is not disposed with the transformer: it still predicts.
        transformer.Dispose();
        using DefectDetection.Imaging.Image image = DefectDetection.Imaging.ImageCodecs.Load(synthetic.Images[1]);
        Assert.True(synthetic.Variation.Predict(image.View()).IsDefect);
    }

    public sealed class NumberRow
    {
        public float X { get; set; }
    }

    public sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class ClassInput
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }

    public sealed class ClassOutput
    {
        public string PredictedLabel { get; set; } = "";
    }
}

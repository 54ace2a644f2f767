using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.MLNet.Transforms;
using DefectDetection.Vision.Backbones;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Tests;

public sealed class FeaturizerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [SharedFact]
    public void Features_AreTheBackbonesPooledMaps_InAVectorColumnOfKnownSize()
    {
        MLContext ml = new(seed: 1);
        ImageDataset few = new(CookieData.TestSet.Take(3));
        IDataView data = ml.Data.LoadFromImageDataset(few);
        ImageFeaturizerEstimator estimator = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) });
        using ImageFeaturizerTransformer featurizer = estimator.Fit(data);
        IDataView features = featurizer.Transform(data);
        DataViewType type = features.Schema[DefectColumnNames.Features].Type;
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 1280), type);

        // The reference: the same backbone run on its own (the tensor feeding MobileNetV2's global pooling), averaged here.
        using OnnxBackbone backbone = new(BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq));
        int row = 0;
        foreach (float[] vector in features.GetColumn<float[]>(DefectColumnNames.Features))
        {
            using Image image = ImageCodecs.Load(few[row++].ImagePath);
            var map = backbone.Run(image.View())[0];
            int hw = map.Dimensions[2] * map.Dimensions[3];
            for (int c = 0; c < 1280; c += 97)
            {
                double mean = 0;
                for (int k = 0; k < hw; k++)
                {
                    mean += map.Data[(c * hw) + k];
                }

                Assert.Equal(mean / hw, vector[c], 4);
            }
        }

        Assert.Equal(3, row);
    }

    [SharedFact]
    public void LbfgsMaximumEntropy_OnTheFeatures_GetsEveryCookieTestImageRight()
    {
        // The transfer-learning figure of the README (22/22), reached with ML.NET's own trainer on the library's features.
        MLContext ml = new(seed: 1);
        IDataView train = ml.Data.LoadFromImageDataset(CookieData.TrainingSet);
        IDataView test = ml.Data.LoadFromImageDataset(CookieData.TestSet);
        var pipeline = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) })
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", DefectColumnNames.Label))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "LabelKey"))
            .Append(ml.Transforms.Conversion.MapKeyToValue(DefectColumnNames.PredictedLabel));
        using var model = pipeline.Fit(train);
        IDataView scored = model.Transform(test);
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "LabelKey");
        string[] truth = [.. scored.GetColumn<string>(DefectColumnNames.Label)];
        string[] predicted = [.. scored.GetColumn<string>(DefectColumnNames.PredictedLabel)];
        Assert.Equal(22, truth.Length);
        Assert.Equal(truth, predicted);
        Assert.Equal(1.0, metrics.MicroAccuracy, 6);
    }

    [SharedFact]
    public void FastTree_OnTheFeatures_SeparatesTheCookies()
    {
        // Any ML.NET trainer takes the vector column: a gradient-boosted tree ensemble on the boolean label.
        MLContext ml = new(seed: 1);
        IDataView train = ml.Data.LoadFromImageDataset(CookieData.TrainingSet);
        IDataView test = ml.Data.LoadFromImageDataset(CookieData.TestSet);
        var pipeline = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) })
            .AppendCacheCheckpoint(ml)
            .Append(ml.BinaryClassification.Trainers.FastTree(labelColumnName: DefectColumnNames.IsDefect, numberOfLeaves: 4, minimumExampleCountPerLeaf: 2));
        using var model = pipeline.Fit(train);
        CalibratedBinaryClassificationMetrics metrics = ml.BinaryClassification.Evaluate(model.Transform(test), labelColumnName: DefectColumnNames.IsDefect);
        output.WriteLine($"FastTree on the cookie features: accuracy {metrics.Accuracy:F3}, AUC {metrics.AreaUnderRocCurve:F3}");
        Assert.True(metrics.AreaUnderRocCurve >= 0.95, $"AUC {metrics.AreaUnderRocCurve}");
        Assert.True(metrics.Accuracy >= 20.0 / 22, $"accuracy {metrics.Accuracy}");
    }

    [Fact]
    public void MissingBackbone_IsNamed()
    {
        MLContext ml = new();
        FileNotFoundException e = Assert.Throws<FileNotFoundException>(() => ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.FromFile("no-such.onnx") }));
        Assert.Contains("no-such.onnx", e.Message, StringComparison.Ordinal);
    }

    [SharedFact]
    public void ANumericColumn_IsRefusedNamingIt()
    {
        MLContext ml = new();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Value = 1 } });
        ImageFeaturizerEstimator e = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) }, inputColumnName: nameof(NumberRow.Value));
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => e.Fit(data));
        Assert.Contains("'Value'", error.Message, StringComparison.Ordinal);
    }

    public sealed class NumberRow
    {
        public float Value { get; set; }
    }
}

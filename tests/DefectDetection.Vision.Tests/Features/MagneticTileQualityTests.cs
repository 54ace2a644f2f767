using DefectDetection.Datasets;
using DefectDetection.Metrics;
using DefectDetection.Testing;
using DefectDetection.Vision.Classification;
using DefectDetection.Vision.Features;
using Xunit.Abstractions;

namespace DefectDetection.Vision.Tests.Features;

public class MagneticTileQualityTests(ITestOutputHelper output)
{
    /// <summary>
    /// The weight-free features and the softmax head on the fixed six-class split of magnetic-tile (938 train / 406
    /// test). Measured with the images decoded by libjpeg-turbo's djpeg: accuracy 0.926, macro F1 0.870; the bounds
    /// leave room for another decoder's rounding.
    /// </summary>
    [SharedFact]
    [Trait("Needs", "JpegDecoder")]
    public void GradientHistogramsAndSoftmax_ClassifyMagneticTileDefects()
    {
        string splits = SharedData.PathOf("datasets", "magnetic-tile", "splits.json");
        ImageDataset train = ImageDataset.FromSplitsFile(splits, "classification", "train");
        ImageDataset test = ImageDataset.FromSplitsFile(splits, "classification", "test");
        FeatureCache cache = new(new GradientHistogramFeatureExtractor());
        float[][] xTrain = cache.GetOrExtract([.. train.Select(i => i.ImagePath)]);
        float[][] xTest = cache.GetOrExtract([.. test.Select(i => i.ImagePath)]);

        SoftmaxClassifierModel model = new SoftmaxClassifierTrainer().Fit(xTrain, [.. train.Select(i => i.Label)]);
        string[] predicted = [.. model.Predict(xTest).Select(p => p.Label)];
        ClassificationMetrics metrics = ClassificationEvaluator.Evaluate([.. test.Select(i => i.Label)], predicted, model.Labels);
        output.WriteLine(metrics.ToTable());

        Assert.True(metrics.Accuracy >= 0.88, $"accuracy {metrics.Accuracy:F3}");
        Assert.True(metrics.MacroF1 >= 0.80, $"macro F1 {metrics.MacroF1:F3}");
    }
}

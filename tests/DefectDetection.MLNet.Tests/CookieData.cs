using DefectDetection.Datasets;
using DefectDetection.MLNet.Transforms;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;
using Microsoft.ML;

namespace DefectDetection.MLNet.Tests;

/// <summary>
/// The Lookout for Vision cookies in ML.NET, with a PatchCore model trained once through
/// <c>mlContext.AnomalyDetection.Trainers.PatchCore</c> on the 31 normal training images (the anomaly protocol of
/// ../shared/README.md). Built lazily, so that classes without shared data never touch it.
/// </summary>
public sealed class CookieData : IDisposable
{
    private readonly Lazy<DefectModelTransformer> _anomaly;

    public CookieData()
    {
        _anomaly = new Lazy<DefectModelTransformer>(() =>
        {
            IDataView normals = Ml.Data.LoadFromImageDataset(new ImageDataset(
                Enumerable.Range(1, 31).Select(i => new LabeledImage(Path.Combine(TrainingFolder, $"normal-{i}.jpg"), "normal"))));
            return Ml.AnomalyDetection.Trainers.PatchCore(new PatchCoreEstimatorOptions
            {
                PatchCore = new PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq) },
            }).Fit(normals);
        });
    }

    public MLContext Ml { get; } = new(seed: 1);

    public static string Cookies => SharedData.PathOf("datasets", "lfv-cookies");

    public static string TrainingFolder => Path.Combine(Cookies, "dataset-files", "training-images");

    public static ImageDataset TestSet => FileNameDataset.Read(Path.Combine(Cookies, "test-images"));

    public static ImageDataset TrainingSet => FileNameDataset.Read(TrainingFolder);

    /// <summary>The PatchCore model trained through ML.NET (owned here).</summary>
    public DefectModelTransformer Anomaly => _anomaly.Value;

    public void Dispose()
    {
        if (_anomaly.IsValueCreated)
        {
            _anomaly.Value.Dispose();
        }
    }

    /// <summary>Image AUROC by counting pairs (ties count a half): the independent reference for ML.NET's evaluator.</summary>
    public static double PairAuroc(IReadOnlyList<float> scores, IReadOnlyList<bool> positives)
    {
        double wins = 0;
        int pairs = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            if (!positives[i])
            {
                continue;
            }

            for (int j = 0; j < scores.Count; j++)
            {
                if (positives[j])
                {
                    continue;
                }

                pairs++;
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
            }
        }

        return wins / pairs;
    }
}

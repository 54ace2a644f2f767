using System.Globalization;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Metrics;

namespace DefectDetection.Samples.DeepPcb;

public static class ResultsTable
{
    public static void Print(DeepPcbResult result, TextWriter output)
    {
        DetectionMetrics m = result.Metrics;
        output.WriteLine($"{"type",-10} {"support",8} {"TP",6} {"FP",6} {"FN",6} {"precision",10} {"recall",8} {"F-score",8} {"AP",8}");
        foreach (string type in Types(m))
        {
            DetectionLabelMetrics t = m.PerLabel[type];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type,-10} {t.Support,8} {t.TruePositives,6} {t.FalsePositives,6} {t.FalseNegatives,6} {t.Precision,10:P2} {t.Recall,8:P2} {t.FScore,8:P2} {t.Ap,8:P2}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overall ({m.ImageCount} images): precision {m.Precision:P2}, recall {m.Recall:P2}, F-score {m.FScore:P2}, mAP {m.Map:P2}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"speed (decode + detect + classify): {result.ImagesPerSecond:F1} images/s on {result.Threads} threads, {result.CpuMillisecondsPerImage:F2} ms CPU per image, load average {result.LoadAverage:F1}"));
    }

    public static void WriteJson(DeepPcbResult result, string path)
    {
        DetectionMetrics m = result.Metrics;
        Dictionary<string, object> perType = [];
        foreach (string type in Types(m))
        {
            DetectionLabelMetrics t = m.PerLabel[type];
            perType[type] = new Dictionary<string, object>
            {
                ["support"] = t.Support,
                ["true_positives"] = t.TruePositives,
                ["false_positives"] = t.FalsePositives,
                ["false_negatives"] = t.FalseNegatives,
                ["precision"] = t.Precision,
                ["recall"] = t.Recall,
                ["fscore"] = t.FScore,
                ["ap"] = double.IsNaN(t.Ap) ? 0 : t.Ap,
            };
        }

        Dictionary<string, object> doc = new()
        {
            ["images"] = m.ImageCount,
            ["train_pairs"] = result.TrainPairs,
            ["precision"] = m.Precision,
            ["recall"] = m.Recall,
            ["fscore"] = m.FScore,
            ["map"] = m.Map,
            ["images_per_second"] = result.ImagesPerSecond,
            ["threads"] = result.Threads,
            ["cpu_ms_per_image"] = result.CpuMillisecondsPerImage,
            ["load_average"] = double.IsNaN(result.LoadAverage) ? -1 : result.LoadAverage,
            ["training_seconds"] = result.TrainingTime.TotalSeconds,
            ["iou_threshold"] = m.IouThreshold,
            ["per_type"] = perType,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }

    // The dataset's types in its order, then anything else the classifier predicted.
    private static IEnumerable<string> Types(DetectionMetrics m) =>
        DeepPcbDataset.TypeNames.Where(m.PerLabel.ContainsKey).Concat(m.PerLabel.Keys.Where(k => !DeepPcbDataset.TypeNames.Contains(k)));
}

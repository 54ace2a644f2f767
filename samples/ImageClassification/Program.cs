// Learn "cracked or not" from the Lookout for Vision cookie photos: a frozen MobileNetV2 backbone turns each image
// into features, a softmax head learns from 63 labelled photos, and the model is saved, reloaded and tested.
// Usage: dotnet run -c Release --project samples/ImageClassification [SHARED_FOLDER] [--weight-free]
using System.Diagnostics;
using DefectDetection.Vision.Backbones;
using DefectDetection.Datasets;
using DefectDetection.Metrics;
using DefectDetection.Models;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision;

string shared = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Path.Combine("..", "shared");
bool weightFree = args.Contains("--weight-free");
string cookies = Path.Combine(shared, "datasets", "lfv-cookies");
string backbone = Path.Combine(shared, "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

// The cookie folders carry the label in the file names (normal-1.jpg, test-anomaly-3.jpg).
ImageDataset train = FileNameDataset.Read(Path.Combine(cookies, "dataset-files", "training-images"));
ImageDataset test = FileNameDataset.Read(Path.Combine(cookies, "test-images"));
Console.WriteLine($"train: {train}");
Console.WriteLine($"test:  {test}");

ImageClassificationOptions options = new()
{
    Backbone = weightFree ? null : BackboneSpec.MobileNetV2Int8(backbone), // null: the weight-free gradient-histogram extractor
    Threshold = new ThresholdOptions { Rule = ThresholdRule.MaxF1 },
    Seed = 1,
};

Stopwatch clock = Stopwatch.StartNew();
using ImageClassificationTrainer trainer = new(options);
using ImageClassificationModel model = trainer.Fit(train, new Progress<TrainingProgress>(p =>
{
    if (p.Stage == TrainingStages.Features && p.Done == p.Total)
    {
        Console.WriteLine($"features of {p.Total} images done");
    }
}));
Console.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F1} s (features {model.Training.FeatureSeconds:F1} s, head {model.Training.HeadSeconds:F2} s), threshold {model.Threshold:F3}");

string file = Path.Combine(Path.GetTempPath(), "cookies.ddmodel");
model.Save(file, new DefectModelSaveOptions { Overwrite = true, DataSource = "lfv-cookies training-images" });
using var loaded = (ImageClassificationModel)DefectModel.Load(file);
ClassificationMetrics metrics = loaded.Evaluate(test);
Console.WriteLine(metrics.ToTable());

foreach (LabeledImage item in test.Take(3))
{
    DefectPrediction p = loaded.PredictFiles([item.ImagePath])[0];
    Console.WriteLine($"{Path.GetFileName(item.ImagePath)}: {p.Label} (confidence of a defect {p.Confidence:P1}; truth {item.Label})");
}

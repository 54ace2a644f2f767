// The library inside ML.NET pipelines, side by side with ML.NET's own transfer learning, on the Lookout for Vision
// cookies and (with --tiles) the magnetic-tile six-label split of ../shared:
//   1. ML.NET alone: LoadImages -> ResizeImages -> ExtractPixels -> DnnFeaturizeImage (its ResNet-18) -> LbfgsMaximumEntropy
//   2. LoadImages -> our featurizer (MobileNetV2-int8, or ML.NET's ResNet-18 on our engine; pooled) -> LbfgsMaximumEntropy
//   3. our classifier (same features, our softmax head and threshold), trained and scored by the library
//   4. our PatchCore anomaly trainer on mlContext.AnomalyDetection.Trainers -> mlContext.AnomalyDetection.Evaluate (cookies)
// Usage: dotnet run -c Release --project samples/MLNet [-- --shared DIR] [--tiles]
using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Metrics;
using DefectDetection.MLNet;
using DefectDetection.MLNet.Transforms;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;
using Microsoft.ML;
using Microsoft.ML.Data;

string shared = Option("--shared") ?? Path.GetFullPath("../shared");
string backbone = Path.Combine(shared, "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");
string cookies = Path.Combine(shared, "datasets", "lfv-cookies");
string splits = Path.Combine(shared, "datasets", "magnetic-tile", "splits.json");
string resNet18 = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"); // copied by ML.NET's package
MLContext ml = new(seed: 1);
Console.WriteLine("| data | method | accuracy | macro F1 | training s | ms per test image |");
Console.WriteLine("|---|---|---|---|---|---|");
Compare("cookies", FileNameDataset.Read(Path.Combine(cookies, "dataset-files", "training-images")), FileNameDataset.Read(Path.Combine(cookies, "test-images")), ["normal"]);
if (args.Contains("--tiles"))
{
    Compare("magnetic tile", ImageDataset.FromSplitsFile(splits, "classification", "train"), ImageDataset.FromSplitsFile(splits, "classification", "test"), ["free"]);
}

// Anomaly detection: PatchCore learns the 31 normal training cookies; ML.NET's evaluator reads its scores.
IDataView normals = ml.Data.LoadFromImageDataset(FileNameDataset.Read(Path.Combine(cookies, "dataset-files", "training-images")).Filter(i => i.Label == "normal"));
Stopwatch clock = Stopwatch.StartNew();
using DefectModelTransformer anomaly = ml.AnomalyDetection.Trainers.PatchCore(new PatchCoreEstimatorOptions { PatchCore = new PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(backbone) } }).Fit(normals);
double trainSeconds = clock.Elapsed.TotalSeconds;
IDataView cookieTest = ml.Data.LoadFromImageDataset(FileNameDataset.Read(Path.Combine(cookies, "test-images")));
clock.Restart();
AnomalyDetectionMetrics am = ml.AnomalyDetection.Evaluate(anomaly.Transform(cookieTest), labelColumnName: DefectColumnNames.AnomalyLabel);
Console.WriteLine($"\nPatchCore via mlContext.AnomalyDetection: image AUROC {am.AreaUnderRocCurve:F3}, detection rate at 10 false positives {am.DetectionRateAtFalsePositiveCount:F3}; trained in {trainSeconds:F1} s, evaluated 22 images in {clock.Elapsed.TotalSeconds:F1} s");

// Saved and reloaded through the package's save (mlContext.Model.Save cannot hold the library's state), then one prediction.
string file = Path.Combine(Path.GetTempPath(), "cookies-anomaly.zip");
ml.Model.SaveWithDefectDetection(anomaly, cookieTest.Schema, file);
using var reloaded = (TransformerChain<ITransformer>)ml.Model.LoadWithDefectDetection(file, out _);
var engine = ml.Model.CreatePredictionEngine<ImageInput, AnomalyOutput>(reloaded);
AnomalyOutput one = engine.Predict(new ImageInput { ImagePath = Path.Combine(cookies, "test-images", "test-anomaly-1.jpg") });
Console.WriteLine($"test-anomaly-1.jpg after save and load: {(one.PredictedLabel ? "anomaly" : "normal")} (score {one.Score:F3}, confidence {one.Probability:P0})");

void Compare(string name, ImageDataset train, ImageDataset test, string[] normalLabels)
{
    IDataView trainView = ml.Data.LoadFromImageDataset(train, normalLabels), testView = ml.Data.LoadFromImageDataset(test, normalLabels);
    var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: DefectColumnNames.ImagePath);
    var head = ml.Transforms.Conversion.MapValueToKey("LabelKey", DefectColumnNames.Label)
        .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "LabelKey"))
        .Append(ml.Transforms.Conversion.MapKeyToValue(DefectColumnNames.PredictedLabel));

    // 1. ML.NET's own transfer learning (as in its documentation's DnnFeaturizeImage sample).
    var mlnet = images.Append(ml.Transforms.ResizeImages("Image", 224, 224))
        .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
        .Append(ml.Transforms.DnnFeaturizeImage(DefectColumnNames.Features, m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"))
        .AppendCacheCheckpoint(ml).Append(head);
    Report(name, "ML.NET: ResNet-18 DnnFeaturizeImage + LbfgsMaximumEntropy", mlnet, trainView, testView, test.Count);

    // 2. The library's features in the same ML.NET pipeline.
    var ours = images.Append(ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MobileNetV2Int8(backbone) }, inputColumnName: "Image"))
        .AppendCacheCheckpoint(ml).Append(head);
    Report(name, "ML.NET + our featurizer (MobileNetV2-int8) + LbfgsMaximumEntropy", ours, trainView, testView, test.Count);

    // 2b. The same with ML.NET's ResNet-18 run by the library's engine (the model file ML.NET's featurizer uses).
    var resnet = images.Append(ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Backbone = BackboneSpec.MlNetResNet18(resNet18) }, inputColumnName: "Image"))
        .AppendCacheCheckpoint(ml).Append(head);
    Report(name, "ML.NET + our featurizer (ML.NET's ResNet-18) + LbfgsMaximumEntropy", resnet, trainView, testView, test.Count);

    // 3. The library's own classifier on the same features.
    Stopwatch clock = Stopwatch.StartNew();
    using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { Backbone = BackboneSpec.MobileNetV2Int8(backbone), NormalLabels = normalLabels, Seed = 1 });
    using ImageClassificationModel model = trainer.Fit(train);
    double seconds = clock.Elapsed.TotalSeconds;
    clock.Restart();
    ClassificationMetrics m = model.Evaluate(test);
    Row(name, "our classifier (MobileNetV2-int8, softmax head)", m, seconds, clock.Elapsed.TotalMilliseconds / test.Count);
}

void Report(string name, string method, IEstimator<ITransformer> pipeline, IDataView train, IDataView test, int count)
{
    Stopwatch clock = Stopwatch.StartNew();
    ITransformer model = pipeline.Fit(train);
    double seconds = clock.Elapsed.TotalSeconds;
    clock.Restart();
    List<LabelPair> pairs = [.. ml.Data.CreateEnumerable<LabelPair>(model.Transform(test), reuseRowObject: false)]; // one pass over the test images
    Row(name, method, ClassificationEvaluator.Evaluate([.. pairs.Select(p => p.Label)], [.. pairs.Select(p => p.PredictedLabel)]), seconds, clock.Elapsed.TotalMilliseconds / count);
    (model as IDisposable)?.Dispose();
}

static void Row(string data, string method, ClassificationMetrics m, double trainSeconds, double msPerImage) =>
    Console.WriteLine($"| {data} | {method} | {m.Accuracy:F3} ({Math.Round(m.Accuracy * m.Count)}/{m.Count}) | {m.MacroF1:F3} | {trainSeconds:F1} | {msPerImage:F1} |");

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

sealed class ImageInput
{
    public string ImagePath { get; set; } = "";
}

sealed class LabelPair
{
    public string Label { get; set; } = "";

    public string PredictedLabel { get; set; } = "";
}

sealed class AnomalyOutput
{
    public float Score { get; set; }

    public bool PredictedLabel { get; set; }

    public float Probability { get; set; }
}

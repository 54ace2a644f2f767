using System.Globalization;
using DefectDetection.Vision.Backbones;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision;

// Anomaly detection from good images only, on the Lookout for Vision cookies (../shared): train a PatchCore model on
// the 31 normal training images, judge the 22 test images (image AUROC, F1 at the model's own threshold), measure the
// maps against the 32 masked training anomalies (pixel AUROC, AUPRO), and write overlays of a few anomalies.
// Usage: AnomalyDetection [--shared DIR] [--out DIR]
string shared = Option("--shared") ?? Path.GetFullPath("../shared");
string output = Option("--out") ?? "anomaly-output";
string cookies = Path.Combine(shared, "datasets", "lfv-cookies");
string training = Path.Combine(cookies, "dataset-files", "training-images");

// The 31 normals (in any order: the trainer takes them in the order of their content, so the threshold's held-out
// images are always the same ones).
ImageDataset normals = new(Enumerable.Range(1, 31).Select(i => new LabeledImage(Path.Combine(training, $"normal-{i}.jpg"), "normal")));
IDefectTrainer trainer = new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(Path.Combine(shared, "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx")) });
string modelFile = Path.Combine(output, "cookies.ddmodel");
Directory.CreateDirectory(output);
using (IDefectModel trained = trainer.Fit(normals))
{
    trained.Save(modelFile, new DefectModelSaveOptions { Overwrite = true });
}

using IDefectModel model = DefectModel.Load(modelFile);
Console.WriteLine(FormattableString.Invariant($"trained on {normals.Count} normals; threshold {model.Threshold:F4}; wrote {modelFile}"));

// Image level: the test images (14 normal, 8 anomalous; labels from the file names).
ImageDataset test = new(Directory.GetFiles(Path.Combine(cookies, "test-images"), "*.jpg").Order(StringComparer.Ordinal)
    .Select(f => new LabeledImage(f, Path.GetFileName(f).Contains("anomaly", StringComparison.Ordinal) ? "anomaly" : "normal")));
ModelEvaluation images = ModelEvaluator.Evaluate(model, test);
Console.WriteLine(FormattableString.Invariant($"test images: image AUROC {images.ImageAuroc:F4}, F1 {images.F1:F4}, accuracy {images.Accuracy:F4} ({images.Images} images)"));

// Pixel level: the training anomalies against their masks (mask-images/anomaly-N.png).
ImageDataset anomalies = new(Enumerable.Range(1, 32).Select(i => new LabeledImage(Path.Combine(training, $"anomaly-{i}.jpg"), "anomaly")
{
    MaskPath = Path.Combine(cookies, "dataset-files", "mask-images", $"anomaly-{i}.png"),
}));
ModelEvaluation pixels = ModelEvaluator.Evaluate(model, anomalies, new ModelEvaluationOptions { PixelMetrics = true });
Console.WriteLine(FormattableString.Invariant($"training anomalies: pixel AUROC {pixels.PixelAuroc:F4}, AUPRO {pixels.Aupro:F4}"));

// Overlays (heat map, mask contours, located defects) and Lookout-style masks of four anomalies.
foreach (LabeledImage item in anomalies.Take(4))
{
    using Image image = ImageCodecs.Load(item.ImagePath);
    DefectPrediction p = model.Predict(image.View());
    string stem = Path.Combine(output, Path.GetFileNameWithoutExtension(item.ImagePath));
    using Image overlay = AnomalyVisualizer.Overlay(image.View(), p);
    ImageCodecs.Save(overlay, stem + ".overlay.png");
    using Image mask = AnomalyVisualizer.LookoutMask(p, new Color(0x23, 0xA4, 0x36));
    ImageCodecs.Save(mask, stem + ".mask.png");
    Console.WriteLine(FormattableString.Invariant($"{Path.GetFileName(item.ImagePath)}: score {p.Score:F3}, {p.Defects.Count} located, top at {p.Defects.FirstOrDefault()?.Box}"));
}

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

using System.Diagnostics;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Vision.Anomaly;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>
/// <c>--task anomaly</c>: a PatchCore-class detector trained on normal images (labelled anomalies, when the data has
/// them, only set the threshold); evaluation adds image AUROC and, with <c>--masks</c>, pixel AUROC and AUPRO.
/// </summary>
internal sealed class AnomalyTask : ITaskHandler
{
    public string Name => "anomaly";

    public string ManifestTask => PatchCoreModel.TaskName;

    public int Train(CliContext context, TrainSettings settings)
    {
        if (File.Exists(settings.Out) && !settings.Overwrite)
        {
            throw new ArgumentException($"--out: '{settings.Out}' exists; pass --overwrite to replace it.");
        }

        string backbone = settings.Backbone ?? throw new ArgumentException("--backbone: the anomaly task needs an ONNX backbone (for example MobileNetV2).");
        (ImageDataset train, _) = TrainingData.Read(settings.Data, settings.Images, settings.Split);
        string normal = settings.NormalLabels.FirstOrDefault(l => train.Labels.Contains(l))
            ?? throw new ArgumentException($"--data: no images labelled {string.Join(" or ", settings.NormalLabels)} (labels found: {string.Join(", ", train.Labels)}).");
        bool flips = settings.Augment switch
        {
            "none" => false,
            "flips" => true,
            _ => throw new ArgumentException($"--augment: '{settings.Augment}' is not an augmentation of the anomaly task (none or flips)."),
        };
        PatchCoreOptions defaults = new();
        PatchCoreOptions options = new()
        {
            BackbonePath = Path.GetFullPath(backbone),
            Layers = settings.Layers.Count > 0 ? settings.Layers : PatchCoreOptions.MobileNetV2Layers,
            InputSize = settings.InputSize ?? defaults.InputSize,
            CoresetRatio = settings.CoresetRatio ?? defaults.CoresetRatio,
            BorderPatches = settings.BorderPatches ?? defaults.BorderPatches,
            ContextWeight = settings.ContextWeight ?? defaults.ContextWeight,
            PositionWeight = settings.PositionWeight ?? defaults.PositionWeight,
            MaxLayerFeatures = settings.MaxLayerFeatures ?? defaults.MaxLayerFeatures,
            NearestImages = settings.NearestImages ?? defaults.NearestImages,
            Layout = settings.Layout ?? defaults.Layout,
            AugmentFlips = flips,
        };
        Stopwatch sw = Stopwatch.StartNew();
        var trainer = new PatchCoreTrainer(options);
        using PatchCoreModel model = settings.Json ? trainer.Fit(train, normal) : ProgressDisplay.Run(context, bars =>
        {
            // One bar per stage as the trainer reports them; a stage that comes back (the coreset, rebuilt with the
            // held-out normals once the threshold is set) gets a second bar.
            var shown = new List<(string Stage, IStageBar Bar)>();
            PatchCoreModel fitted = trainer.Fit(train, normal, new SyncProgress<PatchCoreProgress>(p =>
            {
                if (shown.Count == 0 || shown[^1].Stage != p.Stage)
                {
                    if (shown.Count > 0)
                    {
                        shown[^1].Bar.Value = 1; // the previous stage ended when this one began
                    }

                    string title = shown.Exists(b => b.Stage == p.Stage) ? p.Stage + ", final bank" : p.Stage;
                    shown.Add((p.Stage, bars.Add(title, 1)));
                }

                shown[^1].Bar.Value = Math.Clamp(p.Fraction, 0, 1);
            }));

            return fitted;
        });
        model.Save(settings.Out, new ModelSaveOptions { Overwrite = settings.Overwrite });
        var summary = new Dictionary<string, object>
        {
            ["model"] = Path.GetFullPath(settings.Out),
            ["task"] = Name,
            ["training_images"] = model.TrainingImages,
            ["memory_bank_patches"] = model.BankSize,
            ["memory_bank_bytes"] = model.MemoryBankBytes,
            ["nearest_images"] = model.NearestImages,
            ["threshold"] = Math.Round(model.Threshold, 6),
            ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 2),
        };
        Write(context, settings.Json, summary, $"trained on {model.TrainingImages} normal images in {sw.Elapsed.TotalSeconds:F1} s; threshold {model.Threshold:F4}; wrote {settings.Out}");
        return CliContext.Ok;
    }

    public int Evaluate(CliContext context, EvaluateSettings settings, ModelManifest manifest)
    {
        using PatchCoreModel model = Load(settings.Model, settings.Backbone);
        ImageDataset data = TrainingData.ReadForEvaluation(settings.Data, settings.Images, settings.Split);
        List<double> scores = [];
        List<bool> positives = [];
        List<AnomalyMapSample> maps = [];
        List<string> missingMasks = [];
        int tp = 0, fp = 0, fn = 0;
        foreach (LabeledImage item in data)
        {
            using Image image = ImageCodecs.Load(item.ImagePath);
            AnomalyPrediction p = model.Predict(image);
            bool positive = !string.Equals(item.Label, "normal", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(item.Label, "good", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(item.Label, "free", StringComparison.OrdinalIgnoreCase);
            scores.Add(p.Score);
            positives.Add(positive);
            tp += positive && p.IsAnomalous ? 1 : 0;
            fp += !positive && p.IsAnomalous ? 1 : 0;
            fn += positive && !p.IsAnomalous ? 1 : 0;
            if (settings.Masks is { } masks)
            {
                byte[]? mask = positive ? ReadMask(masks, item.ImagePath, p.Width, p.Height) : new byte[p.Width * p.Height];
                if (mask is null)
                {
                    missingMasks.Add(item.ImagePath);
                }
                else
                {
                    maps.Add(new AnomalyMapSample(p.Map, mask, p.Width, p.Height));
                }
            }
        }

        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp), recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        var result = new Dictionary<string, object?>
        {
            ["images"] = scores.Count,
            ["image_auroc"] = Round(BinaryMetrics.RocAuc([.. scores], [.. positives])),
            ["precision"] = Round(precision),
            ["recall"] = Round(recall),
            ["f1"] = Round(precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)),
            ["threshold"] = Round(model.Threshold),
        };
        if (settings.Masks is not null)
        {
            result["pixel_auroc"] = maps.Any(m => m.Mask.Any(v => v != 0)) ? Round(PixelMetrics.Auroc(maps)) : null;
            result["aupro"] = maps.Any(m => m.Mask.Any(v => v != 0)) ? Round(PixelMetrics.Aupro(maps)) : null;
            result["missing_masks"] = missingMasks;
        }

        Write(context, settings.Json, result, string.Join(Environment.NewLine, result.Select(kv => $"{kv.Key,-14} {Text(kv.Value)}")));
        return CliContext.Ok;
    }

    public int Predict(CliContext context, PredictSettings settings, ModelManifest manifest)
    {
        using PatchCoreModel model = Load(settings.Model, settings.Backbone);
        List<Dictionary<string, object>> rows = [];
        IReadOnlyList<string[]>? overlayFiles = settings.Overlay is { } folder ? settings.Outputs.ClaimEach(settings.Images, folder, "--overlay", ".overlay.png", ".mask.png") : null;
        for (int i = 0; i < settings.Images.Count; i++)
        {
            string path = settings.Images[i];
            using Image image = ImageCodecs.Load(path);
            AnomalyPrediction p = model.Predict(image);
            rows.Add(new Dictionary<string, object>
            {
                ["image"] = path,
                ["anomalous"] = p.IsAnomalous,
                ["score"] = Round(p.Score),
                ["confidence"] = Round(p.Confidence),
                ["total_percentage_area"] = Round(p.TotalPercentageArea),
                ["regions"] = p.Regions.Select(r => new Dictionary<string, object>
                {
                    ["box"] = new[] { r.Bounds.X, r.Bounds.Y, r.Bounds.Width, r.Bounds.Height },
                    ["area"] = r.Area,
                    ["percent"] = Round(r.PercentOfImage),
                }).ToList(),
            });
            if (overlayFiles is not null)
            {
                using Image overlay = AnomalyVisualizer.Overlay(image, p);
                settings.Outputs.Save(overlay, overlayFiles[i][0]);
                using Image mask = AnomalyVisualizer.LookoutMask(p, new Color(0x23, 0xA4, 0x36));
                settings.Outputs.Save(mask, overlayFiles[i][1]);
            }
        }

        Write(context, settings.Json, rows, string.Join(Environment.NewLine, rows.Select(r =>
            $"{Path.GetFileName((string)r["image"])}: {((bool)r["anomalous"] ? "ANOMALY" : "normal")} (score {r["score"]}, confidence {r["confidence"]}, area {r["total_percentage_area"]}%)")));
        return CliContext.Ok;
    }

    private static PatchCoreModel Load(string model, string? backbone) =>
        PatchCoreModel.Load(model, backbone ?? throw new ArgumentException("--backbone: anomaly models need the backbone ONNX they were trained with."));

    // The mask of an image is the file in 'folder' with the same stem (any image extension); any non-zero pixel is a
    // defect. Null when there is none.
    private static byte[]? ReadMask(string folder, string imagePath, int width, int height)
    {
        string stem = Path.GetFileNameWithoutExtension(imagePath);
        string? file = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, stem + ".*").FirstOrDefault(f => Path.GetFileNameWithoutExtension(f) == stem)
            : throw new DirectoryNotFoundException($"--masks: folder not found: {folder}");
        if (file is null)
        {
            return null;
        }

        using Image mask = ImageCodecs.Load(file);
        if (mask.Width != width || mask.Height != height)
        {
            throw new ArgumentException($"--masks: {file} is {mask.Width}x{mask.Height} but its image is {width}x{height}.");
        }

        byte[] result = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = mask.GetRow(y);
            for (int x = 0; x < width; x++)
            {
                bool on = false;
                for (int c = 0; c < mask.Channels && !on; c++)
                {
                    on = row[(x * mask.Channels) + c] != 0 && !(mask.Channels == 4 && c == 3);
                }

                result[(y * width) + x] = on ? (byte)1 : (byte)0;
            }
        }

        return result;
    }

    private static double Round(double v) => double.IsNaN(v) ? v : Math.Round(v, 4);

    private static string Text(object? v) => v switch
    {
        null => "n/a",
        List<string> list => list.Count == 0 ? "none" : string.Join(", ", list),
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    private static void Write(CliContext context, bool json, object payload, string text) =>
        context.Out.WriteLine(json ? JsonSerializer.Serialize(payload, CliJson.Options) : text);
}

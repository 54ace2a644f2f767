using DefectDetection.Vision.Backbones;
using System.Diagnostics;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>
/// <c>--task anomaly</c>: a PatchCore-class detector trained on normal images (labelled anomalies, when the data has
/// them, only set the threshold); evaluation adds image AUROC and, with <c>--masks</c>, pixel AUROC and AUPRO.
/// </summary>
internal sealed class AnomalyTask : ITaskHandler
{
    public string Name => "anomaly";

    public string Summary => "PatchCore anomaly detector on the normal images and --backbone";

    public int Train(CliContext context, TrainSettings settings)
    {
        if (File.Exists(settings.Out) && !settings.Overwrite)
        {
            throw new ArgumentException($"--out: '{settings.Out}' exists; pass --overwrite to replace it.");
        }

        BackboneSpec backbone = settings.BackboneSpec() ?? throw new ArgumentException("--backbone: the anomaly task needs an ONNX backbone (for example MobileNetV2).");
        TrainingParts parts = TrainingData.Read(settings.Data, settings.Images, settings.Split, settings.TestFraction, settings.Seed);
        ImageDataset train = parts.Train;
        IReadOnlyDictionary<string, int> counts = train.CountByLabel();
        string[] normal = [.. settings.NormalLabels.Where(l => counts.GetValueOrDefault(l) > 0)];
        if (normal.Length == 0)
        {
            throw new ArgumentException($"--data: no training images labelled {string.Join(" or ", settings.NormalLabels)} (labels found: {string.Join(", ", counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}"))}); name the good images' label with --normal-label.");
        }

        int anomalies = train.Count(i => !normal.Contains(i.Label));
        AnomalyThresholdSource thresholdFrom = settings.ThresholdFrom ?? (anomalies > 0 ? AnomalyThresholdSource.LabelledAnomalies : AnomalyThresholdSource.Normals);
        if (thresholdFrom == AnomalyThresholdSource.LabelledAnomalies && anomalies == 0)
        {
            throw new ArgumentException($"--threshold-from anomalies: the training part has no labelled anomalies (only {string.Join(", ", normal)}).");
        }

        PatchCoreOptions options = Options(settings, backbone, normal, thresholdFrom);
        if (!settings.Json)
        {
            context.Out.WriteLine($"data: {parts.Layout}; training on {train.Count(i => normal.Contains(i.Label))} {string.Join("/", normal)} images{(anomalies > 0 ? $" and {anomalies} labelled anomalies" : string.Empty)}");
            if (parts.HeldOut is not null)
            {
                context.Out.WriteLine($"data: {parts.HeldOut}{(settings.TestFraction is null ? "; --test-fraction 0 trains on every image" : string.Empty)}");
            }
        }

        Stopwatch sw = Stopwatch.StartNew();
        var trainer = new PatchCoreTrainer(options);
        using PatchCoreModel model = settings.Json ? trainer.Fit(train) : ProgressDisplay.Run(context, bars =>
        {
            // One bar per stage as the trainer reports them; a stage that comes back (the coreset, rebuilt with the
            // held-out normals once the threshold is set) gets a second bar.
            var shown = new List<(string Stage, IStageBar Bar)>();
            PatchCoreModel fitted = trainer.Fit(train, new SyncProgress<TrainingProgress>(p =>
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
        model.Save(settings.Out, new DefectModelSaveOptions { Overwrite = settings.Overwrite, EmbedBackbone = !settings.NoEmbed, DataSource = settings.Data });
        var summary = new Dictionary<string, object>
        {
            ["model"] = Path.GetFullPath(settings.Out),
            ["task"] = Name,
            ["training_images"] = model.TrainingImages,
            ["memory_bank_patches"] = model.BankSize,
            ["memory_bank_bytes"] = model.MemoryBankBytes,
            ["nearest_images"] = model.NearestImages,
            ["feature_dimension"] = model.FeatureDimension,
            ["context_weight"] = model.ContextWeight,
            ["position_weight"] = model.PositionWeight,
            ["border_patches"] = model.BorderPatches,
            ["layers"] = model.Layers,
            ["input_size"] = model.InputSide,
            ["tiles"] = model.Tiles,
            ["threshold"] = Math.Round(model.Threshold, 6),
            ["threshold_from"] = thresholdFrom == AnomalyThresholdSource.Normals ? "normals" : "anomalies",
            ["threshold_rule"] = ThresholdRule(model, thresholdFrom, anomalies, options.Threshold),
            ["data_layout"] = parts.Layout,
            ["test_images"] = parts.Test?.Count ?? 0,
            ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 2),
        };
        if (!settings.Json && model.Search is { } search)
        {
            string against = search.Candidates.Any(c => c.Figures.ContainsKey("labelled_auroc"))
                ? "held-out normal images and labelled defect images"
                : "held-out normal images against synthetic defects";
            context.Out.WriteLine($"configuration: {search.Chosen} ({search.Seconds:F1} s; {search.ValidationImages} {against})");
            foreach (SearchCandidate c in search.Candidates)
            {
                string figures = c.Skipped ?? string.Join(", ", c.Figures.Select(f => $"{f.Key} {f.Value:F3}")) + $", {c.Seconds:F1} s";
                context.Out.WriteLine($"  {(c.Name == search.Chosen ? "*" : " ")} {c.Name}: {figures}");
            }
        }

        if (parts.HeldOut is not null)
        {
            summary["held_out"] = parts.HeldOut;
        }

        if (model.Search is { } searched)
        {
            summary["search"] = searched; // absent when the scale was given (--tiles)
        }

        Write(context, settings.Json, summary, $"trained on {model.TrainingImages} normal images in {sw.Elapsed.TotalSeconds:F1} s; {model.InputSide} px, {model.Tiles}x{model.Tiles} tiles; context {model.ContextWeight}, position {model.PositionWeight}, border {model.BorderPatches}; bank {model.BankSize} patches x {model.FeatureDimension}{(model.NearestImages > 0 ? $", searched through the {model.NearestImages} nearest images" : string.Empty)}; taps {string.Join(", ", model.Layers)}; threshold {model.Threshold:F4}, {ThresholdRule(model, thresholdFrom, anomalies, options.Threshold)}; wrote {settings.Out}");
        if (!settings.Json && parts.Test is { Count: > 0 } test)
        {
            string split = parts.HeldOut is null ? string.Empty : FormattableString.Invariant($" --test-fraction {settings.TestFraction ?? TrainingData.DefaultTestFraction} --seed {settings.Seed}");
            context.Out.WriteLine($"test part: {test.Count} images; defect evaluate --model {settings.Out} --data {settings.Data}{split}");
        }

        return CliContext.Ok;
    }

    /// <summary>The anomaly model's options from the command line (also the anomaly candidate of <c>--task auto</c>).</summary>
    internal static PatchCoreOptions Options(TrainSettings settings, BackboneSpec backbone, string[] normal, AnomalyThresholdSource thresholdFrom)
    {
        bool flips = (settings.Augment ?? "none") switch
        {
            "none" => false,
            "flips" => true,
            _ => throw new ArgumentException($"--augment: '{settings.Augment}' is not an augmentation of the anomaly task (none or flips)."),
        };
        return new PatchCoreOptions
        {
            Backbone = backbone,
            InputSize = settings.InputSize,
            Tiles = settings.Tiles,
            AutoConfig = new Vision.AutoConfigOptions { TimeBudget = settings.TimeBudget },
            CoresetRatio = settings.CoresetRatio,
            BorderPatches = settings.BorderPatches,
            ContextWeight = settings.ContextWeight,
            PositionWeight = settings.PositionWeight,
            MaxLayerFeatures = settings.MaxLayerFeatures,
            NearestImages = settings.NearestImages,
            AugmentFlips = flips,
            NormalLabels = normal,
            Threshold = new AnomalyThresholdOptions { Source = thresholdFrom },
        };
    }

    /// <summary>How the threshold was set, in words: which images and which rule.</summary>
    private static string ThresholdRule(PatchCoreModel model, AnomalyThresholdSource source, int anomalies, AnomalyThresholdOptions options)
    {
        int held = model.CalibrationScores.Count;
        string normals = $"{held} normal image{(held == 1 ? string.Empty : "s")} scored out of fold";
        return source == AnomalyThresholdSource.LabelledAnomalies
            ? $"set from labelled anomalies: best F1 over {normals} and {anomalies} labelled anomal{(anomalies == 1 ? "y" : "ies")}"
            : options.Rule == AnomalyThresholdRule.Percentile
                ? FormattableString.Invariant($"set from normals only: percentile {options.Percentile} of the scores of {normals}")
                : FormattableString.Invariant($"set from normals only: mean + {options.K} sigma of the scores of {normals}");
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

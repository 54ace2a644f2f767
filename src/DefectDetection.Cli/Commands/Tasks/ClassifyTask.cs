using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using Spectre.Console;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary><c>--task classify</c>: a frozen backbone (or the weight-free extractor) plus a softmax head.</summary>
internal sealed class ClassifyTask : ITaskHandler
{
    public string Name => "classify";

    public string Summary => "image classifier on labelled images, transfer learning on --backbone or weight-free features";

    public string ManifestTask => "classification";

    public int Train(CliContext context, TrainSettings settings)
    {
        if (File.Exists(settings.Out) && !settings.Overwrite)
        {
            throw new ArgumentException($"--out: '{settings.Out}' exists; pass --overwrite to replace it.");
        }

        ImageClassificationOptions options = Options(settings);

        // Options first, so that a bad option is reported before any data is read.
        TrainingParts parts = TrainingData.Read(settings.Data, settings.Images, settings.Split, settings.TestFraction, settings.Seed);
        (ImageDataset train, ImageDataset? test) = (parts.Train, parts.Test);
        if (!settings.Json)
        {
            context.Out.WriteLine($"data:     {parts.Layout}");
            if (parts.HeldOut is not null)
            {
                context.Out.WriteLine($"data:     {parts.HeldOut}{(settings.TestFraction is null ? "; --test-fraction 0 trains on every image" : string.Empty)}");
            }
        }

        using ImageClassificationTrainer trainer = new(options);
        ImageClassificationModel model;
        if (settings.Json)
        {
            model = trainer.Fit(train);
        }
        else
        {
            model = ProgressDisplay.Run(context, bars =>
            {
                IStageBar features = bars.Add("features", train.Count);
                IStageBar augment = bars.Add("augmentation", train.Count, started: options.Augmentation is not (null or ImageAugmentation.None));
                IStageBar? search = null;
                IStageBar folds = bars.Add("cross-validation", options.ThresholdFolds);
                IStageBar head = bars.Add("head", 1);
                ImageClassificationModel fitted = trainer.Fit(train, new SyncProgress<TrainingProgress>(p =>
                {
                    // One bar for the search, titled with the candidate being tried.
                    if (p.Stage.StartsWith(TrainingStages.Search, StringComparison.Ordinal))
                    {
                        search ??= bars.Add("search (cross-validated candidates)", Math.Max(1, p.Total));
                    }

                    IStageBar t = p.Stage switch
                    {
                        TrainingStages.Features => features,
                        TrainingStages.Augmentation => augment,
                        TrainingStages.Threshold => folds,
                        _ when search is not null && p.Stage.StartsWith(TrainingStages.Search, StringComparison.Ordinal) => search,
                        _ => head,
                    };
                    t.MaxValue = Math.Max(1, p.Total);
                    t.Value = Math.Min(p.Done, p.Total);
                }));

                return fitted;
            });
        }

        using (model)
        {
            model.Save(settings.Out, new DefectModelSaveOptions { Overwrite = settings.Overwrite, EmbedBackbone = !settings.NoEmbed, DataSource = settings.Data });
            (ClassificationMetrics testMetrics, ClassificationMetrics? Defects)? both = test is null || test.Count == 0 ? null : model.EvaluateBoth(test);
            ClassificationMetrics? testMetrics = both?.testMetrics;
            ClassificationMetrics? testDefects = both?.Defects;
            if (settings.Json)
            {
                var result = new
                {
                    Model = Path.GetFullPath(settings.Out),
                    Task = Name,
                    DataLayout = parts.Layout,
                    parts.HeldOut,
                    model.Labels,
                    model.Threshold,
                    model.Training.ThresholdRule,
                    Backbone = model.Backbone is { } b ? new { b.Name, b.Sha256, b.Layers } : null,
                    Training = new
                    {
                        Images = model.Training.ImageCount,
                        model.Training.PerLabel,
                        Augmented = model.Training.AugmentedCount,
                        model.Training.FeatureSeconds,
                        model.Training.HeadSeconds,
                    },
                    CrossValidation = model.Training.CrossValidation is { } cv ? MetricsJson(cv) : null,
                    Test = testMetrics is null ? null : MetricsJson(testMetrics),
                    DefectThreshold = model.PositiveLabel is null ? model.Threshold : null,
                    TestDefectVsNormal = testDefects is null ? null : MetricsJson(testDefects),
                    model.Training.Search,
                };
                System.Text.Json.Nodes.JsonObject node = JsonSerializer.SerializeToNode(result, CliJson.Options)!.AsObject();
                if (model.Training.Search is null)
                {
                    node.Remove("search"); // written only when there was a search
                }

                context.Out.WriteLine(node.ToJsonString(CliJson.Options));
            }
            else
            {
                context.Out.WriteLine($"model:    {Path.GetFullPath(settings.Out)}");
                context.Out.WriteLine($"features: {model.Extractor.FeatureLength} from {(model.Backbone is { } b ? $"{b.Name} [{string.Join(", ", b.Layers)}]" : "the weight-free extractor")}");
                context.Out.WriteLine($"images:   {model.Training.ImageCount} ({string.Join(", ", model.Training.PerLabel.Select(p => $"{p.Key} {p.Value}"))}), augmented copies {model.Training.AugmentedCount}");
                if (model.Training.Search is { } record)
                {
                    context.Out.WriteLine($"configuration: {record.Chosen} ({record.Seconds:F1} s; {record.Searched.Count} setting(s) searched by {model.Training.CrossValidation?.Count ?? 0}-image cross-validation)");
                    foreach (SearchCandidate c in record.Candidates)
                    {
                        string figures = c.Skipped ?? string.Join(", ", c.Figures.Select(f => $"{f.Key} {f.Value:F3}")) + $", {c.Seconds:F1} s";
                        context.Out.WriteLine($"  {(c.Name == record.Chosen ? "*" : " ")} {c.Name}: {figures}");
                    }
                }

                context.Out.WriteLine($"time:     features {model.Training.FeatureSeconds:F2} s, head {model.Training.HeadSeconds:F2} s");
                if (model.Threshold is { } t)
                {
                    context.Out.WriteLine($"threshold on P({model.PositiveLabel}): {t:F4} (rule {model.Training.ThresholdRule} on out-of-fold probabilities)");
                }

                if (model.Training.CrossValidation is { } cv)
                {
                    context.Out.WriteLine();
                    context.Out.WriteLine("Cross-validated (out-of-fold) on the training images:");
                    context.Out.WriteLine(cv.ToTable());
                }

                if (testMetrics is not null)
                {
                    context.Out.WriteLine();
                    context.Out.WriteLine($"Test ({test!.Count} images):");
                    context.Out.WriteLine(testMetrics.ToTable());
                    if (testDefects is not null)
                    {
                        context.Out.WriteLine($"Defect vs {string.Join("/", model.NormalLabels)}:");
                        context.Out.WriteLine(testDefects.ToTable());
                    }
                }
            }
        }

        return CliContext.Ok;
    }

    /// <summary>The classifier's options from the command line (also the classifier candidate of <c>--task auto</c>).</summary>
    internal static ImageClassificationOptions Options(TrainSettings settings) => new()
    {
            Backbone = settings.BackboneSpec(),
            Augmentation = settings.Augment is { } augment ? ParseAugmentation(augment) : null,
            Pooling = settings.Pooling?.ToLowerInvariant() switch
            {
                null => null,
                "avg" => FeaturePooling.Average,
                "max" => FeaturePooling.Max,
                "avg+max" => FeaturePooling.AverageAndMax,
                _ => throw new ArgumentException($"--pooling: unknown '{settings.Pooling}' (use avg, max or avg+max)."),
            },
            Head = new SoftmaxClassifierOptions
            {
                L2 = settings.L2,
                ClassWeighting = settings.ClassWeighting.ToLowerInvariant() switch
                {
                    "balanced" => ClassWeighting.Balanced,
                    "none" => ClassWeighting.None,
                    _ => throw new ArgumentException($"--class-weighting: unknown '{settings.ClassWeighting}' (use balanced or none)."),
                },
            },
            Seed = settings.Seed,
            AppendWeightFree = settings.AppendWeightFree,
            AutoConfig = new Vision.AutoConfigOptions { TimeBudget = settings.TimeBudget },
            ValidationFraction = settings.ValidationFraction,
            ChooseDefectThreshold = settings.DefectThreshold,
            CacheDirectory = settings.CacheDirectory,
            NormalLabels = settings.NormalLabels,
            PositiveLabel = settings.PositiveLabel,
        };

    internal static object MetricsJson(ClassificationMetrics m) => new
    {
        m.Count,
        m.Labels,
        m.Accuracy,
        m.MacroF1,
        PerLabel = m.PerLabel.ToDictionary(p => p.Key, p => new { p.Value.Precision, p.Value.Recall, p.Value.F1, p.Value.Support }),
        m.ConfusionMatrix,
        m.PositiveLabel,
        m.RocAuc,
        m.PrAuc,
        m.Threshold,
    };

    private static void JsonNodeWriter(CliContext context, string metricsJson, ClassificationMetrics? binary)
    {
        System.Text.Json.Nodes.JsonObject node = System.Text.Json.Nodes.JsonNode.Parse(metricsJson)!.AsObject();
        if (binary is not null)
        {
            node["defect_vs_normal"] = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(MetricsJson(binary), CliJson.Options));
        }

        context.Out.WriteLine(node.ToJsonString(CliJson.Options));
    }

    internal static ImageAugmentation ParseAugmentation(string text)
    {
        ImageAugmentation a = ImageAugmentation.None;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            a |= part.ToLowerInvariant() switch
            {
                "none" => ImageAugmentation.None,
                "hflip" or "flip" => ImageAugmentation.FlipHorizontal,
                "flips" => ImageAugmentation.FlipHorizontal | ImageAugmentation.FlipVertical,
                "vflip" => ImageAugmentation.FlipVertical,
                "rot90" => ImageAugmentation.Rotate90,
                "crops" => ImageAugmentation.Crops,
                _ => throw new ArgumentException($"--augment: unknown '{part}' (use none, hflip, vflip, flips, rot90, crops, comma-separated)."),
            };
        }

        return a;
    }
}

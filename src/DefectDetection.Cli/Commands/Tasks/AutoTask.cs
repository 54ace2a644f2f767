using System.Diagnostics;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Combined;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.LearnerChoice;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>
/// <c>--task auto</c>, the default: the learner the data suits (<see cref="LearnerChoiceTrainer"/>): an anomaly model
/// for good images only; for labelled images the classifier, the anomaly model or both combined, chosen by
/// cross-validation. Without <c>--backbone</c> only the (weight-free) classifier is a candidate.
/// </summary>
internal sealed class AutoTask : ITaskHandler
{
    public string Name => "auto";

    public string Summary => "the default: an anomaly model for good images only; for labelled images the classifier, the anomaly model or both combined, chosen by cross-validation (the anomaly candidates need --backbone)";

    public int Train(CliContext context, TrainSettings settings)
    {
        if (File.Exists(settings.Out) && !settings.Overwrite)
        {
            throw new ArgumentException($"--out: '{settings.Out}' exists; pass --overwrite to replace it.");
        }

        // Options first, so that a bad option is reported before any data is read; then the cases with one candidate
        // run that learner's task as it is (its output, its --json).
        ImageClassificationOptions classifier = ClassifyTask.Options(settings);
        BackboneSpec? backbone = settings.BackboneSpec();
        TrainingParts parts = TrainingData.Read(settings.Data, settings.Images, settings.Split, settings.TestFraction, settings.Seed);
        ImageDataset train = parts.Train;
        HashSet<string> normalSet = new(settings.NormalLabels, StringComparer.Ordinal);
        int normals = train.Count(i => normalSet.Contains(i.Label)), defects = train.Count - normals;
        if (defects == 0 && backbone is null)
        {
            throw new ArgumentException($"--data: every training image is labelled {string.Join(" or ", train.Labels.Where(normalSet.Contains))}: good images alone train an anomaly model, which needs --backbone (a classifier needs two labels).");
        }

        string? single = backbone is null ? "no --backbone: the classifier (weight-free features) is the only learner"
            : defects == 0 ? "only good images: an anomaly model"
            : normals == 0 ? $"no image labelled {string.Join(", ", settings.NormalLabels)} (--normal-label): the classifier is the only learner"
            : null;
        if (single is not null)
        {
            if (!settings.Json)
            {
                context.Out.WriteLine($"learner:  {single}");
            }

            return defects == 0 ? new AnomalyTask().Train(context, settings) : new ClassifyTask().Train(context, settings);
        }

        // --augment flips gives the anomaly candidate's bank mirrored copies too; the classifier's other augmentations are its own.
        PatchCoreOptions anomaly = AnomalyTask.Options(settings with { Augment = settings.Augment == "flips" ? "flips" : null }, backbone!, [.. settings.NormalLabels], AnomalyThresholdSource.Automatic);
        if (!settings.Json)
        {
            context.Out.WriteLine($"data:     {parts.Layout}; {string.Join(", ", train.CountByLabel().Where(c => c.Value > 0).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"))}");
            if (parts.HeldOut is not null)
            {
                context.Out.WriteLine($"data:     {parts.HeldOut}{(settings.TestFraction is null ? "; --test-fraction 0 trains on every image" : string.Empty)}");
            }
        }

        Stopwatch clock = Stopwatch.StartNew();
        LearnerChoiceTrainer trainer = new(new LearnerChoiceOptions { Classifier = classifier, Anomaly = anomaly, Seed = settings.Seed });
        using IDefectModel model = settings.Json ? trainer.Fit(train) : ProgressDisplay.Run(context, bars =>
        {
            // One bar per stage as the learners report them.
            Dictionary<string, IStageBar> shown = new(StringComparer.Ordinal);
            return trainer.Fit(train, new SyncProgress<TrainingProgress>(p =>
            {
                if (!shown.TryGetValue(p.Stage, out IStageBar? bar))
                {
                    shown[p.Stage] = bar = bars.Add(p.Stage, 1);
                }

                bar.Value = Math.Clamp(p.Fraction, 0, 1);
            }));
        });
        double seconds = clock.Elapsed.TotalSeconds;
        model.Save(settings.Out, new DefectModelSaveOptions { Overwrite = settings.Overwrite, EmbedBackbone = !settings.NoEmbed, DataSource = settings.Data });
        TrainingSearch? search = model switch
        {
            ImageClassificationModel c => c.Training.Search,
            PatchCoreModel a => a.Search,
            CombinedModel b => b.Search,
            _ => null,
        };
        ModelEvaluation? test = parts.Test is { Count: > 0 } t
            ? ModelEvaluator.Evaluate(model, t, new ModelEvaluationOptions { NormalLabels = [.. model.NormalLabels, .. settings.NormalLabels] })
            : null;
        if (settings.Json)
        {
            Dictionary<string, object?> summary = ContractTask.JsonSummary(Name, model, settings, train.Count, seconds);
            summary["data_layout"] = parts.Layout;
            summary["held_out"] = parts.HeldOut;
            summary["search"] = search;
            summary["test"] = test is null ? null : new { test.Images, test.Defects, test.Accuracy, test.Precision, test.Recall, test.F1, test.ImageAuroc, MacroF1 = test.Labels?.MacroF1 };
            context.Out.WriteLine(JsonSerializer.Serialize(summary, CliJson.Options));
            return CliContext.Ok;
        }

        if (search?.LearnerChoice is { } choice)
        {
            context.Out.WriteLine($"learner:  {choice.Chosen} ({choice.ValidationImages} training images scored out of fold; ROC AUC of defect vs normal, a costlier learner must win by more than one bootstrap standard error)");
            foreach (SearchCandidate c in choice.Candidates)
            {
                string figures = c.Skipped ?? string.Join(", ", c.Figures.Select(f => $"{f.Key} {f.Value:F3}")) + $", {c.Seconds:F1} s";
                context.Out.WriteLine($"  {(c.Name == choice.Chosen ? "*" : " ")} {c.Name}: {figures}");
            }
        }

        if (search is { Candidates.Count: > 0 })
        {
            context.Out.WriteLine($"configuration: {search.Chosen} ({search.Seconds:F1} s)");
        }

        string threshold = model switch
        {
            CombinedModel b => $"threshold {b.Threshold:F3} on the sum of the standardised scores ({b.ThresholdRule})",
            _ when model.Threshold is { } th => $"threshold {th:F4}",
            _ => "verdict: the likeliest label",
        };
        context.Out.WriteLine($"trained a {model.Learner} model on {train.Count} images in {seconds:F1} s (labels {string.Join(", ", model.Labels)}); {threshold}; wrote {settings.Out}");
        if (test is not null)
        {
            context.Out.WriteLine(FormattableString.Invariant(
                $"test ({test.Images} images, {test.Defects} defects): accuracy {test.Accuracy:F3}, precision {test.Precision:F3}, recall {test.Recall:F3}, F1 {test.F1:F3}, ROC AUC {test.ImageAuroc?.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) ?? "n/a"}{(test.Labels is { } l ? $", macro F1 over labels {l.MacroF1:F3}" : string.Empty)}"));
            string split = parts.HeldOut is null ? string.Empty : FormattableString.Invariant($" --test-fraction {settings.TestFraction ?? TrainingData.DefaultTestFraction} --seed {settings.Seed}");
            context.Out.WriteLine($"more:     defect evaluate --model {settings.Out} --data {settings.Data}{split}");
        }

        return CliContext.Ok;
    }
}

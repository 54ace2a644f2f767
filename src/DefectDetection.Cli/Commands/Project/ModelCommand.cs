using System.CommandLine;
using System.Globalization;
using System.Text;
using DefectDetection.Projects;
using static DefectDetection.Cli.Commands.Project.ProjectArguments;

namespace DefectDetection.Cli.Commands.Project;

/// <summary><c>defect model train|retrain|list|show|compare|activate|delete</c>: a project's model versions.</summary>
internal static class ModelCommand
{
    public static Command Create(CliContext context)
    {
        Command group = new("model", "A project's model versions: train (v1, v2, ...), retrain on the current dataset, list, show, compare, activate, delete.");
        group.Subcommands.Add(Train(context, retrain: false));
        group.Subcommands.Add(Train(context, retrain: true));
        group.Subcommands.Add(List(context));
        group.Subcommands.Add(Show(context));
        group.Subcommands.Add(Compare(context));
        group.Subcommands.Add(Activate(context));
        group.Subcommands.Add(Delete(context));
        return group;
    }

    private static Command Train(CliContext context, bool retrain)
    {
        Option<string> project = ProjectOption();
        Option<string> task = new("--task") { Description = "auto (default: anomaly detection when every training image is normal, else a classifier), classify or anomaly." };
        Option<string> backbone = new("--backbone") { Description = "An ONNX backbone (the anomaly task needs one; without it the classifier uses weight-free features)." };
        Option<string> timeBudget = new("--time-budget") { HelpName = "SECONDS", Description = "Time the automatic configuration may take (default 300; 0: no limit)." };
        Option<string> seed = new("--seed") { Description = "Random seed (default 0)." };
        Option<bool> activate = new("--activate") { Description = "Make the new version active (default: only when none is)." };
        Option<string> keep = new("--keep") { Description = "Then keep only the newest N trained versions (the active one is never deleted)." };
        Option<bool> json = JsonOption();
        Command command = retrain
            ? new("retrain", "Train a new version on the current dataset with the configuration of the active version.") { project, activate, keep, json }
            : new("train", "Train a new version on the current dataset (recorded as training first; failed if it fails, is cancelled or killed).") { project, task, backbone, timeBudget, seed, activate, keep, json };
        SetAction(command, context, (parse, ct) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            int? keepLast = parse.GetValue(keep) is { } k ? OnnxTensorFiles.ParseInt(k, "--keep", 1, 1, int.MaxValue) : null;
            ModelVersion v = WithProgress(context, asJson, progress => retrain
                ? p.Models.Retrain(parse.GetValue(activate), keepLast, progress, ct)
                : p.Models.Train(new ModelTrainOptions
                {
                    Task = parse.GetValue(task)?.ToLowerInvariant() switch
                    {
                        null or "auto" => ProjectTask.Auto,
                        "classify" => ProjectTask.Classify,
                        "anomaly" => ProjectTask.Anomaly,
                        { } other => throw new ArgumentException($"--task: '{other}' is not auto, classify or anomaly."),
                    },
                    Backbone = parse.GetValue(backbone),
                    TimeBudget = TimeSpan.FromSeconds(OnnxTensorFiles.ParseInt(parse.GetValue(timeBudget), "--time-budget", 300, 0, 86_400)),
                    Seed = OnnxTensorFiles.ParseInt(parse.GetValue(seed), "--seed", 0, 0, int.MaxValue),
                    Activate = parse.GetValue(activate),
                    KeepLast = keepLast,
                }, progress, ct));
            if (asJson)
            {
                WriteJson(context, Json(v));
            }
            else
            {
                context.Out.WriteLine($"{v.Name}: {v.Learner} trained on {v.TrainImages} images in {v.TrainingSeconds:F1} s{(v.IsActive ? ", active" : string.Empty)}; {v.ModelPath}");
                context.Out.WriteLine(Table([v]));
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        Option<string> project = ProjectOption();
        Option<bool> json = JsonOption();
        Command command = new("list", "List the versions with status, learner, test metrics; * marks the active one.") { project, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            IReadOnlyList<ModelVersion> versions = p.Models.List();
            if (asJson)
            {
                WriteJson(context, versions.Select(Json));
            }
            else
            {
                context.Out.WriteLine(versions.Count == 0 ? "no versions yet: defect model train" : List(versions));
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string> version = new("version") { Description = "The version (v1, v2, ...)." };
        Option<bool> entries = new("--entries") { Description = "Also list the dataset entries it was trained and tested on (its lineage)." };
        Option<bool> json = JsonOption();
        Command command = new("show", "Show a version: configuration, metrics, model file, lineage.") { project, version, entries, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            ModelVersion v = p.Models.Get(Version(parse.GetValue(version), "version"));
            IReadOnlyList<DatasetEntry>? lineage = parse.GetValue(entries) ? p.Models.EntriesOf(v.Number) : null;
            if (asJson)
            {
                WriteJson(context, new
                {
                    Version = Json(v),
                    Entries = lineage?.Select(e => new { e.Id, Split = e.Split.ToString().ToLowerInvariant(), e.Label, e.Origin, e.Source, e.Verified }),
                });
                return CliContext.Ok;
            }

            ModelConfiguration c = v.Configuration;
            context.Out.WriteLine($"{v.Name}: {v.Status.ToString().ToLowerInvariant()}{(v.IsActive ? ", active" : string.Empty)}");
            context.Out.WriteLine($"learner:  {v.Learner ?? "n/a"} (task {c.ResolvedTask}, asked {c.Task}{(c.Chosen is null ? string.Empty : $", configuration {c.Chosen}")}, threshold {Number(c.Threshold)})");
            context.Out.WriteLine($"backbone: {c.Backbone ?? "none (weight-free features)"}; seed {c.Seed}; time budget {c.TimeBudgetSeconds} s");
            context.Out.WriteLine($"data:     {v.TrainImages} training and {v.TestImages} test images");
            context.Out.WriteLine($"time:     started {v.StartedAt:u}{(v.TrainingSeconds is { } s ? FormattableString.Invariant($", {s:F1} s") : string.Empty)}");
            context.Out.WriteLine($"model:    {v.ModelPath ?? "none"}");
            if (v.Error is not null)
            {
                context.Out.WriteLine($"error:    {v.Error}");
            }

            context.Out.WriteLine(Table([v]));
            foreach (DatasetEntry e in lineage ?? [])
            {
                context.Out.WriteLine($"  {e.Id,6}  {e.Split.ToString().ToLowerInvariant(),-5}  {e.Label,-12}  {e.Origin}  {e.Source}");
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Compare(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string> a = new("a") { Description = "The first version." };
        Argument<string> b = new("b") { Description = "The second version." };
        Option<bool> json = JsonOption();
        Command command = new("compare", "Two versions side by side: test metrics, and the test images whose verdict changed.") { project, a, b, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            VersionComparison c = p.Models.Compare(Version(parse.GetValue(a), "a"), Version(parse.GetValue(b), "b"));
            if (asJson)
            {
                WriteJson(context, new { A = Json(c.A), B = Json(c.B), c.CommonTestImages, c.Changed });
                return CliContext.Ok;
            }

            context.Out.WriteLine(Table([c.A, c.B]));
            context.Out.WriteLine($"{c.Changed.Count} of {c.CommonTestImages} common test images changed verdict:");
            foreach (ChangedVerdict x in c.Changed)
            {
                context.Out.WriteLine(FormattableString.Invariant($"  {x.EntryId,6}  true {x.TrueLabel,-10}  {c.A.Name} {Word(x.A),-18}  {c.B.Name} {Word(x.B),-18}  {x.Source}"));
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Activate(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string> version = new("version") { Description = "The version to make active." };
        Option<bool> json = JsonOption();
        Command command = new("activate", "Make a trained version the active one (the one trials and services use).") { project, version, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            ModelVersion v = p.Models.Activate(Version(parse.GetValue(version), "version"));
            if (asJson)
            {
                WriteJson(context, Json(v));
            }
            else
            {
                context.Out.WriteLine($"{v.Name} is active: {v.ModelPath}");
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Delete(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string[]> versions = new("version") { Description = "The versions to delete.", Arity = ArgumentArity.ZeroOrMore };
        Option<string> keepLast = new("--keep-last") { Description = "Instead: delete all but the newest N trained versions (never the active one)." };
        Option<bool> json = JsonOption();
        Command command = new("delete", "Delete versions' model files (their records stay for the lineage); never the active version.") { project, versions, keepLast, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            string[] named = parse.GetValue(versions) ?? [];
            string? keep = parse.GetValue(keepLast);
            if ((named.Length == 0) == (keep is null))
            {
                throw new ArgumentException("name the versions to delete, or give --keep-last N (not both).");
            }

            using DefectProject p = Open(context, parse, project, asJson);
            List<int> deleted;
            if (keep is not null)
            {
                deleted = [.. p.Models.KeepLast(OnnxTensorFiles.ParseInt(keep, "--keep-last", 1, 1, int.MaxValue))];
            }
            else
            {
                deleted = [.. named.Select(n => Version(n, "version"))];
                deleted.ForEach(p.Models.Delete);
            }

            if (asJson)
            {
                WriteJson(context, new { Deleted = deleted.Select(n => $"v{n}") });
            }
            else
            {
                context.Out.WriteLine(deleted.Count == 0 ? "nothing to delete" : $"deleted {string.Join(", ", deleted.Select(n => $"v{n}"))}");
            }

            return CliContext.Ok;
        });
        return command;
    }

    internal static object Json(ModelVersion v) => new
    {
        Version = v.Name,
        Status = v.Status.ToString().ToLowerInvariant(),
        Active = v.IsActive,
        v.Learner,
        v.Configuration,
        Model = v.ModelPath,
        v.StartedAt,
        v.FinishedAt,
        v.TrainingSeconds,
        v.TrainImages,
        v.TestImages,
        Metrics = v.Metrics is { } m ? new { m.Images, m.Accuracy, m.Precision, m.Recall, m.F1, m.RocAuc, m.LabelAccuracy, m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives } : null,
        v.Error,
    };

    private static string Word(Verdict v) => FormattableString.Invariant($"{(v.IsDefect ? "DEFECT" : "good")} {v.Label} {v.Confidence:F2}");

    private static string List(IReadOnlyList<ModelVersion> versions)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"version",-7}  {"status",-8}  {"learner",-16}  {"train",5}  {"test",5}  {"accuracy",8}  {"F1",6}  {"AUROC",6}  {"seconds",7}");
        foreach (ModelVersion v in versions)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{(v.IsActive ? "*" : " ")} {v.Name,-7}  {v.Status.ToString().ToLowerInvariant(),-8}  {v.Learner ?? "-",-16}  {v.TrainImages,5}  {v.TestImages,5}  {Percent(v.Metrics?.Accuracy),8}  {Number(v.Metrics?.F1),6}  {Number(v.Metrics?.RocAuc),6}  {(v.TrainingSeconds is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "-"),7}{(v.Error is null ? string.Empty : "  " + v.Error)}");
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>The metric table, one column per version.</summary>
    private static string Table(IReadOnlyList<ModelVersion> versions)
    {
        var rows = new (string Name, Func<TestMetrics, string> Value)[]
        {
            ("test images", m => m.Images.ToString(CultureInfo.InvariantCulture)),
            ("accuracy", m => Percent(m.Accuracy)),
            ("precision", m => Number(m.Precision)),
            ("recall", m => Number(m.Recall)),
            ("F1", m => Number(m.F1)),
            ("ROC AUC", m => Number(m.RocAuc)),
            ("label accuracy", m => Percent(m.LabelAccuracy)),
            ("TP / FP / TN / FN", m => FormattableString.Invariant($"{m.TruePositives}/{m.FalsePositives}/{m.TrueNegatives}/{m.FalseNegatives}")),
        };
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"",-18}");
        foreach (ModelVersion v in versions)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {v.Name,12}");
        }

        foreach ((string name, Func<TestMetrics, string> value) in rows)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"{name,-18}");
            foreach (ModelVersion v in versions)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {(v.Metrics is { } m ? value(m) : "n/a"),12}");
            }
        }

        return text.ToString();
    }
}

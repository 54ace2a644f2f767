using System.CommandLine;
using System.Globalization;
using DefectDetection.Projects;
using static DefectDetection.Cli.Commands.Project.ProjectArguments;

namespace DefectDetection.Cli.Commands.Project;

/// <summary><c>defect dataset import|list|relabel|remove</c>: a project's images.</summary>
internal static class DatasetCommand
{
    public static Command Create(CliContext context)
    {
        Command group = new("dataset", "A project's dataset: import images (copied; your files are never changed), list, relabel, remove.");
        group.Subcommands.Add(Import(context));
        group.Subcommands.Add(List(context));
        group.Subcommands.Add(Relabel(context));
        group.Subcommands.Add(Remove(context));
        return group;
    }

    private static Command Import(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string> source = new("source") { Description = "A folder (Lookout for Vision or MVTec AD train/ + test/, label folders, files named by label, or good images named anything), a Lookout for Vision / Ground Truth manifest, or a CSV list (path,label[,mask])." };
        Option<string> images = new("--images") { Description = "The image folder of a manifest (required for s3:// references)." };
        Option<string> split = new("--split") { Description = "train or test for every image (default: the source's own train/test parts, else train)." };
        Option<string> testFraction = new("--test-fraction") { Description = "Share of each label sent to the test split by a split seeded with --seed (default 0)." };
        Option<string> seed = new("--seed") { Description = "Seed of --test-fraction's split (default 0)." };
        Option<string> label = new("--label") { Description = "Label of a folder of images named anything (default normal)." };
        Option<bool> json = JsonOption();
        Command command = new("import", "Import images into the project: validated first (unreadable files, bad masks, unknown labels: nothing is imported), copied, added in one transaction; duplicates of stored images are skipped.") { project, source, images, split, testFraction, seed, label, json };
        SetAction(command, context, (parse, ct) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            ImportOptions options = new()
            {
                Source = parse.GetValue(source)!,
                Images = parse.GetValue(images),
                Split = Split(parse.GetValue(split), "--split"),
                TestFraction = TrainCommand.ParseDouble(parse.GetValue(testFraction), "--test-fraction") ?? 0,
                Seed = OnnxTensorFiles.ParseInt(parse.GetValue(seed), "--seed", 0, 0, int.MaxValue),
                Label = parse.GetValue(label) ?? "normal",
            };
            ImportResult r = WithProgress(context, asJson, progress => p.Dataset.Import(options, progress, ct));
            var warnings = r.Report.Problems.Where(x => !x.IsError).Select(x => x.Message).ToList();
            if (asJson)
            {
                WriteJson(context, new
                {
                    r.ImportId,
                    r.Layout,
                    Added = r.Added.Count,
                    AddedBySplit = r.Added.GroupBy(e => e.Split.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.GroupBy(e => e.Label).ToDictionary(l => l.Key, l => l.Count())),
                    r.Duplicates,
                    Warnings = warnings,
                    Entries = p.Dataset.Count(),
                });
                return CliContext.Ok;
            }

            context.Out.WriteLine($"import {r.ImportId}: {r.Layout}; added {r.Added.Count} ({string.Join(", ", r.Added.GroupBy(e => (e.Split, e.Label)).Select(g => $"{g.Key.Split.ToString().ToLowerInvariant()} {g.Key.Label} {g.Count()}"))}), skipped {r.Duplicates.Count} duplicate(s); the dataset has {p.Dataset.Count()} images");
            foreach (string w in warnings)
            {
                context.Out.WriteLine($"warning: {w}");
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        Option<string> project = ProjectOption();
        Option<string> split = new("--split") { Description = "Only train or test." };
        Option<string> label = new("--label") { Description = "Only this label." };
        Option<bool> verified = new("--verified") { Description = "Only images a person verified." };
        Option<bool> removed = new("--removed") { Description = "Include removed images." };
        Option<string> limit = new("--limit") { Description = "At most this many (default: all)." };
        Option<string> offset = new("--offset") { Description = "Skip this many first." };
        Option<bool> json = JsonOption();
        Command command = new("list", "List the dataset: id, split, label, verified, origin, source.") { project, split, label, verified, removed, limit, offset, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            DatasetQuery query = new()
            {
                Split = Split(parse.GetValue(split), "--split"),
                Label = parse.GetValue(label),
                Verified = parse.GetValue(verified) ? true : null,
                IncludeRemoved = parse.GetValue(removed),
                Limit = parse.GetValue(limit) is { } l ? OnnxTensorFiles.ParseInt(l, "--limit", 0, 0, int.MaxValue) : null,
                Offset = OnnxTensorFiles.ParseInt(parse.GetValue(offset), "--offset", 0, 0, int.MaxValue),
            };
            IReadOnlyList<DatasetEntry> entries = p.Dataset.List(query);
            if (asJson)
            {
                WriteEntries(context, entries);
                return CliContext.Ok;
            }

            var text = new System.Text.StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"{"id",6}  {"split",-5}  {"label",-12}  {"verified",-8}  {"origin",-28}  source");
            foreach (DatasetEntry e in entries)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{e.Id,6}  {e.Split.ToString().ToLowerInvariant(),-5}  {e.Label,-12}  {(e.Verified ? "yes" : "no"),-8}  {e.Origin,-28}  {e.Source}{(e.RemovedAt is null ? string.Empty : "  (removed)")}");
            }

            text.Append(CultureInfo.InvariantCulture, $"{entries.Count} image(s)");
            context.Out.WriteLine(text.ToString());
            return CliContext.Ok;
        });
        return command;
    }

    private static Command Relabel(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string[]> ids = new("id") { Description = "Dataset entry ids (see dataset list).", Arity = ArgumentArity.OneOrMore };
        Option<string> label = new("--label") { Description = "The new label." };
        Option<string> split = new("--split") { Description = "Also move them to train or test." };
        Option<bool> json = JsonOption();
        Command command = new("relabel", "Give dataset entries a new label (and optionally split); versions trained before keep the labels they were trained with.") { project, ids, label, split, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            int n = p.Dataset.Relabel(Ids(parse.GetValue(ids)), TrainCommand.Required(parse.GetValue(label), "--label", "the new label"), Split(parse.GetValue(split), "--split"));
            Report(context, asJson, n, $"relabelled {n} image(s)");
            return CliContext.Ok;
        });
        return command;
    }

    private static Command Remove(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string[]> ids = new("id") { Description = "Dataset entry ids (see dataset list).", Arity = ArgumentArity.OneOrMore };
        Option<bool> json = JsonOption();
        Command command = new("remove", "Remove dataset entries from later training and testing (the versions trained on them keep their lineage).") { project, ids, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            int n = p.Dataset.Remove(Ids(parse.GetValue(ids)));
            Report(context, asJson, n, $"removed {n} image(s)");
            return CliContext.Ok;
        });
        return command;
    }

    // Written field by field: a list of 10,000 entries is the common case for machines, and reflection would double its time.
    private static void WriteEntries(CliContext context, IReadOnlyList<DatasetEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (DatasetEntry e in entries)
            {
                json.WriteStartObject();
                json.WriteNumber("id", e.Id);
                json.WriteString("split", e.Split == EntrySplit.Test ? "test" : "train");
                json.WriteString("label", e.Label);
                json.WriteBoolean("verified", e.Verified);
                json.WriteString("origin", e.Origin);
                json.WriteString("source", e.Source);
                json.WriteString("image_path", e.ImagePath);
                json.WriteString("mask_path", e.MaskPath);
                json.WriteString("sha256", e.Sha256);
                json.WriteString("added_at", e.AddedAt);
                if (e.RemovedAt is { } removed)
                {
                    json.WriteString("removed_at", removed);
                }
                else
                {
                    json.WriteNull("removed_at");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        context.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void Report(CliContext context, bool json, int changed, string text)
    {
        if (json)
        {
            WriteJson(context, new { Changed = changed });
        }
        else
        {
            context.Out.WriteLine(text);
        }
    }

    private static long[] Ids(string[]? texts) => [.. (texts ?? []).Select(t =>
        long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : throw new ArgumentException($"'{t}' is not a dataset entry id."))];
}

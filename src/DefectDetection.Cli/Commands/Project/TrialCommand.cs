using System.CommandLine;
using System.Globalization;
using DefectDetection.Projects;
using static DefectDetection.Cli.Commands.Project.ProjectArguments;

namespace DefectDetection.Cli.Commands.Project;

/// <summary><c>defect trial run|show|verify|accept</c>: trial detections and their verification.</summary>
internal static class TrialCommand
{
    public static Command Create(CliContext context)
    {
        Command group = new("trial", "Trial detections: run a version over new images, show the results, verify them, accept the verified images into the dataset.");
        group.Subcommands.Add(Run(context));
        group.Subcommands.Add(Show(context));
        group.Subcommands.Add(Verify(context));
        group.Subcommands.Add(Accept(context));
        return group;
    }

    private static Command Run(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string[]> images = new("images") { Description = "Image files or folders of images.", Arity = ArgumentArity.OneOrMore };
        Option<string> version = new("--version") { Description = "The version to run (default: the active one)." };
        Option<bool> json = JsonOption();
        Command command = new("run", "Run a version over new images; each verdict is stored with a small overlay.") { project, images, version, json };
        SetAction(command, context, (parse, ct) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            int? v = parse.GetValue(version) is { } text ? Version(text, "--version") : null;
            Trial t = WithProgress(context, asJson, progress => p.Trials.Run(parse.GetValue(images)!, v, progress, ct));
            Write(context, asJson, t);
            return CliContext.Ok;
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string?> number = new("trial") { Description = "The trial number (default: list the trials).", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> json = JsonOption();
        Command command = new("show", "List the trials, or show one trial's results and verifications.") { project, number, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            if (parse.GetValue(number) is { } n)
            {
                Write(context, asJson, p.Trials.Get(TrialNumber(n)));
                return CliContext.Ok;
            }

            IReadOnlyList<Trial> trials = p.Trials.List();
            if (asJson)
            {
                WriteJson(context, trials.Select(t => Json(t, results: false)));
            }
            else
            {
                context.Out.WriteLine(trials.Count == 0 ? "no trials yet: defect trial run IMAGES" : string.Join(Environment.NewLine, trials.Select(Line)));
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Verify(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string> number = new("trial") { Description = "The trial number." };
        Argument<string?> image = new("image") { Description = "The image (file name or path as given to trial run).", Arity = ArgumentArity.ZeroOrOne };
        Option<string> label = new("--label") { Description = "The image's true label." };
        Option<bool> correct = new("--correct") { Description = "The verdict was right." };
        Option<bool> wrong = new("--wrong") { Description = "The verdict was wrong (the true label is the other verdict's, unless --label says)." };
        Option<string> mask = new("--mask") { Description = "A defect mask to keep with the image." };
        Option<string> file = new("--file") { Description = "Verify many at once, all or none: CSV lines image,label[,mask] or image,correct|wrong, or a JSON array of {image, label, correct, mask}." };
        Option<bool> json = JsonOption();
        Command command = new("verify", "Record whether a trial verdict was correct and the true label, one image at a time or from a file.") { project, number, image, label, correct, wrong, mask, file, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            int trial = TrialNumber(parse.GetValue(number)!);
            using DefectProject p = Open(context, parse, project, asJson);
            if (parse.GetValue(file) is { } f)
            {
                if (parse.GetValue(image) is not null)
                {
                    throw new ArgumentException("--file: give either an image or --file, not both.");
                }

                int n = p.Trials.VerifyFromFile(trial, f);
                Trial t = p.Trials.Get(trial);
                if (asJson)
                {
                    WriteJson(context, new { Verified = n, Trial = Json(t, results: false) });
                }
                else
                {
                    context.Out.WriteLine($"verified {n} image(s); {Line(t)}");
                }

                return CliContext.Ok;
            }

            string one = TrainCommand.Required(parse.GetValue(image), "image", "the trial image to verify, or --file");
            bool? isCorrect = (parse.GetValue(correct), parse.GetValue(wrong)) switch
            {
                (true, true) => throw new ArgumentException("--correct and --wrong: give one."),
                (true, false) => true,
                (false, true) => false,
                _ => null,
            };
            TrialResult r = p.Trials.Verify(trial, one, new VerificationInput { TrueLabel = parse.GetValue(label), Correct = isCorrect, MaskPath = parse.GetValue(mask) });
            if (asJson)
            {
                WriteJson(context, Json(r));
            }
            else
            {
                context.Out.WriteLine($"{Path.GetFileName(r.Source)}: {(r.Verification!.Correct ? "correct" : "wrong")}, true label {r.Verification.TrueLabel}");
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Accept(CliContext context)
    {
        Option<string> project = ProjectOption();
        Argument<string> number = new("trial") { Description = "The trial number." };
        Option<string> split = new("--split") { Description = "The split the images join (default train)." };
        Option<bool> json = JsonOption();
        Command command = new("accept", "Add a trial's verified images to the dataset with their true labels (verified entries); then 'defect model retrain'.") { project, number, split, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            int trial = TrialNumber(parse.GetValue(number)!);
            using DefectProject p = Open(context, parse, project, asJson);
            AcceptResult r = p.Trials.Accept(trial, Split(parse.GetValue(split), "--split") ?? EntrySplit.Train);
            if (asJson)
            {
                WriteJson(context, new { Added = r.Added.Select(e => new { e.Id, Split = e.Split.ToString().ToLowerInvariant(), e.Label, e.Source }), r.Duplicates, Entries = p.Dataset.Count() });
            }
            else
            {
                context.Out.WriteLine($"accepted {r.Added.Count} verified image(s) into the dataset ({string.Join(", ", r.Added.GroupBy(e => e.Label).Select(g => $"{g.Key} {g.Count()}"))}); {r.Duplicates.Count} already there; the dataset has {p.Dataset.Count()} images");
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static void Write(CliContext context, bool json, Trial t)
    {
        if (json)
        {
            WriteJson(context, Json(t, results: true));
            return;
        }

        context.Out.WriteLine(Line(t));
        foreach (TrialResult r in t.Results)
        {
            string verified = r.Verification is { } v ? $"verified {(v.Correct ? "correct" : "WRONG")} ({v.TrueLabel})" : "unverified";
            context.Out.WriteLine(FormattableString.Invariant($"  {(r.IsDefect ? "DEFECT" : "good"),-6}  {r.Label,-10}  {r.Confidence,5:P0}  {r.Defects.Count} located  {verified,-28}  {Path.GetFileName(r.Source)}"));
        }
    }

    private static string Line(Trial t) =>
        $"trial {t.Number}: v{t.Version}, {t.Status.ToString().ToLowerInvariant()}, {t.Images} images, {t.Verified} verified, {t.Accepted} accepted{(t.Error is null ? string.Empty : $" ({t.Error})")}";

    private static object Json(Trial t, bool results) => new
    {
        Trial = t.Number,
        Version = $"v{t.Version}",
        Status = t.Status.ToString().ToLowerInvariant(),
        t.Source,
        t.StartedAt,
        t.Images,
        t.Verified,
        t.Accepted,
        t.Error,
        Results = results ? t.Results.Select(Json) : null,
    };

    private static object Json(TrialResult r) => new
    {
        r.Id,
        Image = r.Source,
        r.Label,
        r.IsDefect,
        r.Score,
        r.Confidence,
        r.Defects,
        Overlay = r.OverlayPath,
        Verification = r.Verification,
        r.AcceptedEntryId,
    };

    private static int TrialNumber(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"'{text}' is not a trial number.");
}

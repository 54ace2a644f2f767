using System.CommandLine;
using DefectDetection.Projects;
using static DefectDetection.Cli.Commands.Project.ProjectArguments;

namespace DefectDetection.Cli.Commands.Project;

/// <summary><c>defect project create|info</c>: a project folder (SQLite catalog and stored images).</summary>
internal static class ProjectCommand
{
    public static Command Create(CliContext context)
    {
        Command group = new("project", "Inspection projects: a folder holding the dataset, model versions, trials and verifications (see also dataset, model, trial).");
        group.Subcommands.Add(CreateCommand(context));
        group.Subcommands.Add(Info(context));
        return group;
    }

    private static Command CreateCommand(CliContext context)
    {
        Option<string> project = ProjectOption();
        Option<string> name = new("--name") { Description = "The project's name (default: the folder's name)." };
        Option<string> normal = new("--normal-label") { Description = "Labels that mean a good image, comma-separated (default normal,good)." };
        Option<string> labels = new("--labels") { Description = "The only labels the dataset may use, comma-separated (default: any)." };
        Option<bool> json = JsonOption();
        Command command = new("create", "Create a project in --project (the folder is created if needed; one that holds a project already is refused).") { project, name, normal, labels, json };
        SetAction(command, context, (parse, _) =>
        {
            using DefectProject p = DefectProject.Create(parse.GetValue(project) ?? ".", new ProjectOptions
            {
                Name = parse.GetValue(name),
                NormalLabels = List(parse.GetValue(normal)) ?? DefectDetection.Models.Learners.DefaultNormalLabels,
                Labels = List(parse.GetValue(labels)),
            });
            if (parse.GetValue(json))
            {
                WriteJson(context, new { p.Name, p.Folder, Catalog = p.CatalogPath, DefectProject.SchemaVersion, p.NormalLabels, p.Labels });
            }
            else
            {
                context.Out.WriteLine($"created project '{p.Name}' in {p.Folder} (catalog {DefectProject.CatalogFileName}, schema {DefectProject.SchemaVersion})");
            }

            return CliContext.Ok;
        });
        return command;
    }

    private static Command Info(CliContext context)
    {
        Option<string> project = ProjectOption();
        Option<bool> json = JsonOption();
        Command command = new("info", "Show a project: dataset counts per split and label, versions, the active version, trials.") { project, json };
        SetAction(command, context, (parse, _) =>
        {
            bool asJson = parse.GetValue(json);
            using DefectProject p = Open(context, parse, project, asJson);
            ProjectSummary s = p.GetSummary();
            if (asJson)
            {
                WriteJson(context, new { s.Name, s.Folder, s.SchemaVersion, s.Revision, s.NormalLabels, s.Entries, s.Versions, ActiveVersion = s.ActiveVersion is { } a ? $"v{a}" : null, s.Trials, p.Recovery });
                return CliContext.Ok;
            }

            context.Out.WriteLine($"project:  {s.Name} ({s.Folder}), schema {s.SchemaVersion}, revision {s.Revision}");
            context.Out.WriteLine($"normal:   {string.Join(", ", s.NormalLabels)}");
            foreach ((string split, IReadOnlyDictionary<string, int> labels) in s.Entries)
            {
                context.Out.WriteLine($"{split + ":",-9} {labels.Values.Sum()} images ({string.Join(", ", labels.Select(l => $"{l.Key} {l.Value}"))})");
            }

            context.Out.WriteLine($"versions: {(s.Versions.Count == 0 ? "none" : string.Join(", ", s.Versions.Select(v => $"{v.Value} {v.Key}")))}; active {(s.ActiveVersion is { } n ? $"v{n}" : "none")}");
            context.Out.WriteLine($"trials:   {s.Trials}");
            return CliContext.Ok;
        });
        return command;
    }

    private static string[]? List(string? text) =>
        text is null ? null : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DefectDetection.Cli.Commands.Tasks;
using DefectDetection.Models;
using DefectDetection.Projects;

namespace DefectDetection.Cli.Commands.Project;

/// <summary>What the project command groups share: <c>--project</c>, <c>--json</c>, error handling, progress and version names.</summary>
internal static class ProjectArguments
{
    /// <summary><c>--project DIR</c>: the project folder, default the current directory.</summary>
    public static Option<string> ProjectOption() => new("--project", "-p") { Description = "The project folder (default: the current directory).", DefaultValueFactory = _ => "." };

    public static Option<bool> JsonOption() => new("--json") { Description = "Write JSON for machines instead of text." };

    /// <summary>
    /// Sets a command's action: the body runs with Ctrl+C as its cancellation token; a bad project, version, entry or
    /// input ends with a message and exit code 2.
    /// </summary>
    public static void SetAction(Command command, CliContext context, Func<ParseResult, CancellationToken, int> body) =>
        command.SetAction((parse, cancellationToken) => Task.FromResult(TrainCommand.Guard(context, () =>
        {
            try
            {
                OnnxCommand.RejectUnmatched(parse);
                return body(parse, cancellationToken);
            }
            catch (ProjectException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return CliContext.BadInput;
            }
            catch (OperationCanceledException)
            {
                context.Error.WriteLine("cancelled: nothing was half-written (a version being trained is marked failed).");
                return CliContext.Failure;
            }
        })));

    /// <summary>Opens the project of <c>--project</c>, telling what it closed (killed imports or training runs).</summary>
    public static DefectProject Open(CliContext context, ParseResult parse, Option<string> project, bool json)
    {
        DefectProject opened = DefectProject.Open(parse.GetValue(project) ?? ".");
        ProjectRecovery r = opened.Recovery;
        if (!r.IsEmpty && !json)
        {
            context.Error.WriteLine($"note: closed unfinished work of ended processes: {r.FailedVersions.Count} version(s) marked failed, {r.FailedImports.Count} import(s) marked failed, {r.FailedTrials.Count} trial(s) marked failed, {r.TemporaryFilesRemoved} temporary file(s) removed.");
        }

        return opened;
    }

    /// <summary>A version named <c>v3</c> or <c>3</c>.</summary>
    public static int Version(string? text, string what) =>
        text is not null && int.TryParse(text.StartsWith('v') || text.StartsWith('V') ? text[1..] : text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new ArgumentException($"{what}: '{text}' is not a version (v1, v2, ...).");

    public static EntrySplit? Split(string? text, string option) => text?.ToLowerInvariant() switch
    {
        null => null,
        "train" => EntrySplit.Train,
        "test" => EntrySplit.Test,
        _ => throw new ArgumentException($"{option}: '{text}' is not train or test."),
    };

    public static void WriteJson(CliContext context, object value) => context.Out.WriteLine(JsonSerializer.Serialize(value, CliJson.Options));

    /// <summary>Runs long work with progress bars on the output for people (one per stage), none with <c>--json</c>.</summary>
    public static T WithProgress<T>(CliContext context, bool json, Func<IProgress<TrainingProgress>?, T> work)
    {
        if (json)
        {
            return work(null);
        }

        return ProgressDisplay.Run(context, bars =>
        {
            var shown = new List<(string Stage, IStageBar Bar)>();
            return work(new SyncProgress<TrainingProgress>(p =>
            {
                if (shown.Count == 0 || shown[^1].Stage != p.Stage)
                {
                    if (shown.Count > 0)
                    {
                        shown[^1].Bar.Value = shown[^1].Bar.MaxValue;
                    }

                    string title = shown.Exists(b => b.Stage == p.Stage) ? p.Stage + " (again)" : p.Stage;
                    shown.Add((p.Stage, bars.Add(title, 1)));
                }

                shown[^1].Bar.Value = Math.Clamp(p.Fraction, 0, 1);
            }));
        });
    }

    public static string Percent(double? v) => v is { } x ? x.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    public static string Number(double? v) => v is { } x ? x.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
}

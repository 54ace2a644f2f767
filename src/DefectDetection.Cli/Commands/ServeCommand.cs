using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using DefectDetection.Service;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Models;
using DefectDetection.Vision;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect serve</c>: the inspection service over HTTP; <c>defect serve key create</c>: an API key for it.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> model = new("--model") { Description = "The .ddmodel file the service judges images with." };
        Option<string> project = new("--project") { Description = "A project folder (defect project create): the service judges with its active model version and follows activations without dropping requests; results are stored in its service/ folder unless --data says otherwise." };
        Option<string> backbone = new("--backbone") { Description = "The backbone ONNX of a model that references it by hash and has no file with that hash beside it." };
        Option<string> data = new("--data") { Description = "The service's data folder: the result store (results.db) and the uploaded images (default with --project: its service/ folder)." };
        Option<string> urls = new("--urls") { Description = "Where to listen (default http://localhost:5000; several separated by ';')." };
        Option<int?> capacity = new("--queue-capacity") { Description = "Accepted images that may wait to be judged; beyond it uploads get 429 (default 256)." };
        Option<int?> workers = new("--workers") { Description = "Images judged at once (default 1)." };
        Option<string> config = new("--config") { Description = "A JSON file of webhooks, alarm rules and limits (docs/service.md)." };
        ScaleOutArguments scaleOut = new();
        Command command = new("serve", "Serve a model over HTTP: upload images, read results, statistics, webhooks and alarms (docs/service.md).")
        {
            model, project, backbone, data, urls, capacity, workers, config, scaleOut.Role, scaleOut.Postgres, scaleOut.RabbitMq, scaleOut.Queue,
        };
        command.Subcommands.Add(KeyCommand(context));
        command.SetAction(parse => context.Guard(() =>
        {
            ServeConfig file = parse.GetValue(config) is { } path ? ServeConfig.Load(ImageCommand.RequireFile(new FileInfo(path))) : new ServeConfig();
            string? projectDir = parse.GetValue(project), modelPath = parse.GetValue(model);
            if ((projectDir is null) == (modelPath is null))
            {
                throw new ArgumentException("serve: give either --model (a .ddmodel file) or --project (a project folder), not both or neither.");
            }

            InspectionServiceOptions options = file.ToOptions(
                parse.GetValue(data) ?? (projectDir is null ? TrainCommand.Required(null, "--data", "the service's data folder") : Path.Combine(projectDir, "service")),
                parse.GetValue(capacity),
                parse.GetValue(workers));
            ScaleOutOptions? shared = scaleOut.ToOptions(parse, capacity);
            options = shared is null ? options : ScaleOutArguments.WithRole(options, shared.Role);
            options.Validate();
            var load = new Models.DefectModelLoadOptions { BackbonePath = parse.GetValue(backbone) };
            IModelSource source = projectDir is not null
                ? ProjectModelSource.Open(projectDir, TimeSpan.FromSeconds(2), load)
                : new SwitchableModelSource(DefectModel.Load(modelPath!, load), SwitchableModelSource.VersionOf(modelPath!));
            string[] args = parse.GetValue(urls) is { } u ? ["--urls", u] : [];
            using WebApplication app = InspectionService.Create(options, source, args, b =>
            {
                if (shared is not null)
                {
                    b.Services.AddInspectionScaleOut(shared);
                }
            });
            string version = source is ProjectModelSource p ? $"{p.Folder} {p.Version}" : ((SwitchableModelSource)source).Version;
            string results = shared is null ? Path.GetFullPath(options.DataDirectory) : $"PostgreSQL, images in {Path.GetFullPath(options.DataDirectory)}";
            context.Out.WriteLine($"serving {version} ({shared?.Role.ToString().ToLowerInvariant() ?? "embedded"}); results in {results} (Ctrl+C stops)");
            app.Run();
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command KeyCommand(CliContext context)
    {
        Option<string> data = new("--data") { Description = "The service's data folder." };
        Option<string> scopes = new("--scopes") { Description = "Comma-separated scopes: ingest, read, admin (admin implies all)." };
        Option<string> name = new("--name") { Description = "A name for the key (who or what uses it)." };
        Option<string> postgres = new("--postgres") { Description = "Store the key in this PostgreSQL database (a scaled-out service; or env DEFECT_POSTGRES) instead of the data folder." };
        Command create = new("create", "Create an API key; it is printed once and stored only as a hash.") { data, scopes, name, postgres };
        create.SetAction(parse => context.Guard(() =>
        {
            ApiScopes granted = ApiKeys.ParseScopes(TrainCommand.Required(parse.GetValue(scopes), "--scopes", "ingest, read and/or admin"));
            string keyName = TrainCommand.Required(parse.GetValue(name), "--name", "a name for the key");
            string key = (parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable("DEFECT_POSTGRES")) is { Length: > 0 } pg
                ? ScaleOutServiceCollectionExtensions.CreatePostgresApiKeyAsync(pg, keyName, granted).GetAwaiter().GetResult()
                : ApiKeys.CreateAsync(TrainCommand.Required(parse.GetValue(data), "--data", "the service's data folder"), keyName, granted).GetAwaiter().GetResult();
            context.Out.WriteLine(key);
            context.Error.WriteLine("Store this key now: it is not shown again.");
            return CliContext.Ok;
        }));
        Command key = new("key", "Manage the service's API keys.");
        key.Subcommands.Add(create);
        return key;
    }
}

/// <summary>The <c>--config</c> file of <c>defect serve</c>: webhooks, alarm rules and limits (snake_case JSON).</summary>
internal sealed class ServeConfig
{
    public int? QueueCapacity { get; init; }

    public int? Workers { get; init; }

    public long? MaxBodyBytes { get; init; }

    public long? MaxImagePixels { get; init; }

    public List<WebhookConfig> Webhooks { get; init; } = [];

    public List<AlarmConfig> Alarms { get; init; } = [];

    public static ServeConfig Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ServeConfig>(File.ReadAllText(path), Options) ?? new ServeConfig();
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"--config: {path}: {ex.Message}", ex);
        }
    }

    public InspectionServiceOptions ToOptions(string data, int? capacity, int? workers)
    {
        InspectionServiceOptions defaults = new();
        return new InspectionServiceOptions
        {
            DataDirectory = data,
            QueueCapacity = capacity ?? QueueCapacity ?? defaults.QueueCapacity,
            WorkerCount = workers ?? Workers ?? defaults.WorkerCount,
            MaxBodyBytes = MaxBodyBytes ?? defaults.MaxBodyBytes,
            MaxImagePixels = MaxImagePixels ?? defaults.MaxImagePixels,
            Webhooks = Webhooks.Select(w => new WebhookSubscription
            {
                Url = w.Url,
                Secret = w.Secret,
                Events = w.Events is { Count: > 0 } e ? e.Aggregate(WebhookEvents.None, (all, x) => all | ParseEvent(x)) : WebhookEvents.All,
            }).ToList(),
            Alarms = Alarms.Select(a => new AlarmRule
            {
                Name = a.Name,
                Kind = a.Kind switch
                {
                    "anomaly_rate" => AlarmKind.AnomalyRate,
                    "invalid_count" => AlarmKind.InvalidCount,
                    _ => throw new ArgumentException($"--config: alarm '{a.Name}': kind '{a.Kind}' is not anomaly_rate or invalid_count."),
                },
                Scope = a.Scope switch
                {
                    "line" => AlarmScope.Line,
                    "camera" => AlarmScope.Camera,
                    _ => throw new ArgumentException($"--config: alarm '{a.Name}': scope '{a.Scope}' is not line or camera."),
                },
                Threshold = a.Threshold,
                LastImages = a.LastImages,
                Window = a.WindowSeconds is { } s ? TimeSpan.FromSeconds(s) : null,
            }).ToList(),
        };
    }

    private static WebhookEvents ParseEvent(string name) => name switch
    {
        "anomaly" => WebhookEvents.Anomaly,
        "alarm" => WebhookEvents.Alarm,
        "invalid" => WebhookEvents.Invalid,
        _ => throw new ArgumentException($"--config: webhook event '{name}' is not anomaly, alarm or invalid."),
    };

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };
}

/// <summary>A webhook of the <c>--config</c> file.</summary>
internal sealed class WebhookConfig
{
    public string Url { get; init; } = "";

    public string Secret { get; init; } = "";

    public List<string>? Events { get; init; }
}

/// <summary>An alarm rule of the <c>--config</c> file.</summary>
internal sealed class AlarmConfig
{
    public string Name { get; init; } = "";

    public string Kind { get; init; } = "anomaly_rate";

    public string Scope { get; init; } = "line";

    public double Threshold { get; init; }

    public int? LastImages { get; init; }

    public double? WindowSeconds { get; init; }
}
